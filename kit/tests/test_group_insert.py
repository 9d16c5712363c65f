"""Group commit on the real store: concurrent inserts into one collection are one command, each caller told its own
outcome, and nothing is answered before the command holding it has returned."""

from __future__ import annotations

import asyncio

import pytest
from pymongo.errors import DuplicateKeyError

from xueji_kit import store_commands
from xueji_kit.group_insert import GroupInsert
from xueji_kit.store import connect

pytestmark = pytest.mark.integration


async def test_concurrent_inserts_are_one_command_and_a_taken_id_is_its_callers_alone(isolation):
    store_commands.install()
    client = connect(isolation.servers.mongodb)
    database = f"{isolation.database}_group"
    collection = client[database]["docs"]
    await collection.insert_one({"_id": "taken"})
    group = GroupInsert(collection)
    with store_commands.counting(database) as log:

        async def one(doc_id: str) -> str:
            try:
                await group.insert_one({"_id": doc_id})
            except DuplicateKeyError:
                return "duplicate"
            return "stored" if await collection.find_one({"_id": doc_id}) else "lost"

        outcomes = await asyncio.gather(*(one(f"d{n}") for n in range(10)), one("taken"), one("d3"))
        inserts = [c for c in log.commands if c.kind == "insert"]
    assert outcomes == ["stored"] * 10 + ["duplicate", "duplicate"]  # each told before its answer: stored
    assert [c.statements for c in inserts] == [12]  # twelve documents, one command
    assert sorted(await group.insert_many_once([{"_id": "d1"}, {"_id": "new"}])) == [0]
    assert await collection.count_documents({}) == 12
    await client.close()

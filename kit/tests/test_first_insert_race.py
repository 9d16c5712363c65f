"""Upserts by `_id` on the real store: two writers of a document that does not exist yet both try to insert it, and
the local store (FerretDB 1.x) refuses the second with a duplicate key. `upsert_by_id` and `replace_by_id` make the
loser write over the winner instead, so neither writer fails and the document holds one of the two writes."""

from __future__ import annotations

import asyncio

import pytest

from xueji_kit.store import replace_by_id, upsert_by_id

pytestmark = pytest.mark.integration
KEYS = 50  # two writers per key: on the local store some of 50 first inserts collide every time (about 1 in 5)


async def test_two_first_writers_of_one_id_both_succeed_with_upsert_by_id(database) -> None:
    collection = database["counted"]
    writes = [upsert_by_id(collection, f"k{n}", {"$inc": {"writes": 1}}) for n in range(KEYS) for _ in range(2)]
    await asyncio.gather(*writes)  # a duplicate key would raise here
    counts = [doc["writes"] async for doc in collection.find({})]
    assert counts == [2] * KEYS  # the loser's update was applied, not lost


async def test_two_first_writers_of_one_id_both_succeed_with_replace_by_id(database) -> None:
    collection = database["replaced"]
    writes = [replace_by_id(collection, {"_id": f"k{n}", "by": by}) for n in range(KEYS) for by in ("a", "b")]
    await asyncio.gather(*writes)
    docs = [doc async for doc in collection.find({})]
    assert len(docs) == KEYS
    assert {doc["by"] for doc in docs} <= {"a", "b"}

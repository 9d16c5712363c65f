"""Indexes that serve queries exist where the store uses them, and nowhere else: on the local store they serve no
query and cost every insert."""

from __future__ import annotations

import pytest
from pymongo import ASCENDING

from xueji_kit import store as store_module
from xueji_kit.event_store import EventStore
from xueji_kit.store import query_index, serves_queries_from_indexes

pytestmark = pytest.mark.integration


async def test_the_local_store_gets_no_index_it_cannot_use_and_keeps_each_version_unique(database):
    assert not await serves_queries_from_indexes(database)  # the local store: FerretDB 1.x
    events = EventStore(database)
    await events.ensure_indexes()
    await query_index(database["allocations"], [("scope", ASCENDING), ("holder", ASCENDING)], name="scope_holder")
    for name in ("events", "events_outbox", "allocations"):
        assert [i["name"] for i in await (await database[name].list_indexes()).to_list()] in ([], ["_id_"]), name
    assert await events.append(commit_id="c1", aggregate_id="a", version=1, events=[{"n": 1}], outgoing=[])
    with pytest.raises(store_module.ConcurrencyConflict):  # the commit's `_id` keeps the version unique
        await events.append(commit_id="c2", aggregate_id="a", version=1, events=[{"n": 2}], outgoing=[])


async def test_a_store_that_serves_queries_from_indexes_gets_them(database, monkeypatch):
    async def it_does(_db):
        return True

    monkeypatch.setattr(store_module, "serves_queries_from_indexes", it_does)
    await EventStore(database).ensure_indexes()
    indexes = {i["name"]: i for i in await (await database["events"].list_indexes()).to_list()}
    assert indexes["stream_version"]["unique"]
    assert "relay_order" in {i["name"] for i in await (await database["events_outbox"].list_indexes()).to_list()}

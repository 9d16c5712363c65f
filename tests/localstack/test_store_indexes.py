"""The local FerretDB indexes what its `_id` pushdown queries, as MongoDB's `_id` index would (idindex.go): each
collection of 1,000 documents or more, once, with one `_id` index that both serves the lookups and keeps `_id`
unique."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import ferretdb_server
import pytest
from common import free_port
from pymongo import MongoClient
from pymongo.errors import BulkWriteError, DuplicateKeyError

PUSHDOWN = "_ferretdb_sjson->'$._id'"  # the very expression FerretDB's pushdown puts in WHERE


def _indexes(database: Path) -> dict[str, str]:
    with sqlite3.connect(database, timeout=5) as db:
        return dict(db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"))


def _id_indexes(database: Path, until: int, timeout: float = 10) -> dict[str, list[str]]:
    """Each table's `_id` indexes (name: sql), once `until` tables have the pushdown one (or `timeout` ran out)."""
    deadline = time.monotonic() + timeout
    while True:
        by_table: dict[str, list[str]] = {}
        for name, sql in _indexes(database).items():
            table = sql.split(" ON ")[1].split(" ")[0].strip('"')
            by_table.setdefault(table, []).append(f"{name}: {sql}")
        if sum(any(PUSHDOWN in i for i in found) for found in by_table.values()) >= until:
            return by_table
        if time.monotonic() > deadline:
            return by_table
        time.sleep(0.2)


def test_every_large_collection_gets_one_unique_id_index_that_its_lookups_use(tmp_path):
    server = ferretdb_server.start(tmp_path / "data", free_port())
    try:
        client: MongoClient[dict[str, object]] = MongoClient(server.address, serverSelectionTimeoutMS=5000)
        client["shop"]["events"].insert_many([{"_id": f"a@{i}"} for i in range(1, 1201)])
        client["shop"]["timers"].insert_many([{"_id": f"t@{i}"} for i in range(1, 1101)])
        client["shop"]["small"].insert_one({"_id": "s@1"})  # a few documents: scanning them is as cheap
        database = tmp_path / "data" / "shop.sqlite"
        tables = _id_indexes(database, until=2)
        large = {t: found for t, found in tables.items() if any(PUSHDOWN in i for i in found)}
        assert len(large) == 2, tables  # the two large collections, not the small one
        for table, found in large.items():
            # One index on `_id`, not FerretDB's and ours side by side: each insert paid for both.
            assert found == [f'{table}__id_: CREATE UNIQUE INDEX "{table}__id_" ON "{table}" ({PUSHDOWN})'], found
        (small,) = [found for t, found in tables.items() if t not in large]
        assert len(small) == 1 and "UNIQUE" in small[0], small  # FerretDB's own, untouched
        with sqlite3.connect(database, timeout=5) as db:
            (table,) = [t for t in large if t.startswith("events")]
            plan = db.execute(
                f'EXPLAIN QUERY PLAN SELECT _ferretdb_sjson FROM "{table}" WHERE {PUSHDOWN} = ?', ('"a@1"',)
            ).fetchall()
        assert any("USING INDEX" in str(row) for row in plan), plan
        events = client["shop"]["events"]
        assert events.find_one({"_id": "a@1"}) == {"_id": "a@1"}
        # Still unique, and still reported as a duplicate `_id`: what insert_once and every idempotent writer rely on.
        with pytest.raises(DuplicateKeyError):
            events.insert_one({"_id": "a@7", "again": True})
        with pytest.raises(BulkWriteError) as refused:
            events.insert_many([{"_id": "a@1201"}, {"_id": "a@9"}, {"_id": "a@1202"}], ordered=False)
        assert [e["code"] for e in refused.value.details["writeErrors"]] == [11000]
        assert events.count_documents({}) == 1202
        assert events.find_one({"_id": "a@7"}) == {"_id": "a@7"}
        client.close()
    finally:
        server.stop()


def test_a_database_an_earlier_version_indexed_twice_keeps_one_id_index(tmp_path):
    """A local store's data written by an earlier version has FerretDB's index and one beside it (`_xueji_id`)."""
    server = ferretdb_server.start(tmp_path / "data", free_port())
    try:
        client: MongoClient[dict[str, object]] = MongoClient(server.address, serverSelectionTimeoutMS=5000)
        client["shop"]["events"].insert_many([{"_id": f"a@{i}"} for i in range(1, 1201)])
        database = tmp_path / "data" / "shop.sqlite"
        (table,) = [t for t, f in _id_indexes(database, until=1).items() if t.startswith("events")]
        with sqlite3.connect(database, timeout=5) as db:  # as the earlier version left it
            db.execute(f'DROP INDEX "{table}__id_"')
            db.execute(f'CREATE UNIQUE INDEX "{table}__id_" ON "{table}" (_ferretdb_sjson->"_id")')
            db.execute(f'CREATE INDEX "{table}_xueji_id" ON "{table}" ({PUSHDOWN})')
        time.sleep(0.5)
        found = _id_indexes(database, until=1)[table]
        deadline = time.monotonic() + 10
        while len(found) > 1 and time.monotonic() < deadline:
            time.sleep(0.2)
            found = _id_indexes(database, until=1)[table]
        assert found == [f'{table}__id_: CREATE UNIQUE INDEX "{table}__id_" ON "{table}" ({PUSHDOWN})'], found
        assert client["shop"]["events"].find_one({"_id": "a@3"}) == {"_id": "a@3"}
        client.close()
    finally:
        server.stop()

"""The local FerretDB indexes what its `_id` pushdown queries, as MongoDB's `_id` index would (idindex.go): each
collection of 1,000 documents or more, once."""

from __future__ import annotations

import sqlite3
import time

import ferretdb_server
from common import free_port
from pymongo import MongoClient


def test_every_large_collection_gets_the_index_its_id_lookups_use(tmp_path):
    server = ferretdb_server.start(tmp_path / "data", free_port())
    try:
        client: MongoClient[dict[str, object]] = MongoClient(server.address, serverSelectionTimeoutMS=5000)
        client["shop"]["events"].insert_many([{"_id": f"a@{i}"} for i in range(1, 1201)])
        client["shop"]["timers"].insert_many([{"_id": f"t@{i}"} for i in range(1, 1101)])
        client["shop"]["small"].insert_one({"_id": "s@1"})  # a few documents: scanning them is as cheap
        database = tmp_path / "data" / "shop.sqlite"
        deadline = time.monotonic() + 10
        while True:
            with sqlite3.connect(database, timeout=5) as db:
                indexes = dict(db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index'").fetchall())
            ours = {name: sql for name, sql in indexes.items() if name.endswith("_xueji_id")}
            if len(ours) == 2 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert len(ours) == 2, indexes  # the two large collections, not the small one
        # The very expression FerretDB's pushdown puts in WHERE, so SQLite can use it.
        assert all("_ferretdb_sjson->'$._id'" in sql for sql in ours.values())
        with sqlite3.connect(database, timeout=5) as db:
            (table,) = [n.removesuffix("_xueji_id") for n in ours if n.startswith("events")]
            plan = db.execute(
                f"EXPLAIN QUERY PLAN SELECT _ferretdb_sjson FROM \"{table}\" WHERE _ferretdb_sjson->'$._id' = ?",
                ('"a@1"',),
            ).fetchall()
        assert any("USING INDEX" in str(row) for row in plan), plan
        assert client["shop"]["events"].find_one({"_id": "a@1"}) == {"_id": "a@1"}
        client.close()
    finally:
        server.stop()

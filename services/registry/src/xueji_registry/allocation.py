"""Gapless sequence allocation without transactions: the insert a unique `_id` refuses is the only lock.

Each allocation records its holder, so a retried or redelivered allocation reuses its number (no gap).
"""

from __future__ import annotations

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from xueji_kit.store import Document, is_duplicate_key


class Sequences:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.collection = db["allocations"]

    async def ensure_indexes(self) -> None:
        await self.collection.create_index([("scope", ASCENDING), ("holder", ASCENDING)], name="scope_holder")

    async def allocate(self, scope: str, holder: str) -> int:
        """The number `holder` got in `scope`, or the next free one (1, 2, ...) won by a unique insert."""
        mine = await self.collection.find_one({"scope": scope, "holder": holder})
        if mine is not None:
            return int(mine["seq"])
        seq = await self.collection.count_documents({"scope": scope}) + 1
        while True:
            try:
                await self.collection.insert_one(
                    {"_id": f"{scope}#{seq}", "scope": scope, "seq": seq, "holder": holder}
                )
            except PyMongoError as exc:
                if not is_duplicate_key(exc):
                    raise
                seq += 1  # another writer won this number; the next one may be free
                continue
            return seq

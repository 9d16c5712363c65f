"""The inbox filings: each case filed under every jurisdiction asked of it, in the `cases` collection (R50)."""

# Each case is filed under every jurisdiction that has had something to do on it, so an inbox is one equality lookup
# on an indexed key (`code`). Entries are only ever inserted (`_id` = code:transfer_id): on FerretDB 1.x an insert
# stays cheap however large the collection, while any update or delete reads all of it. What a case asks of a
# jurisdiction now is computed from the case itself when the inbox is read, so an entry never goes stale, only quiet.

from __future__ import annotations

from collections.abc import Iterable

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from xueji_kit.group_insert import GroupInserts
from xueji_kit.store import Document, is_duplicate_key, query_index


class InboxFilings:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.collection = db["cases"]
        self.grouped = GroupInserts()  # concurrent decisions' filings: one insert

    async def ensure_indexes(self) -> None:
        await query_index(self.collection, [("code", ASCENDING)], name="inbox_by_jurisdiction")

    async def file(self, transfer_id: str, codes: Iterable[str], *, owner: str | None = None) -> None:
        """File the case under each code (once); `owner` names the province that owns a mirrored case."""
        for code in codes:
            entry = {"_id": f"{code}:{transfer_id}", "code": code, "transfer_id": transfer_id, "owner": owner}
            try:
                await self.grouped.of(self.collection).insert_one(entry)
            except PyMongoError as exc:
                if not is_duplicate_key(exc):
                    raise

    async def filed_under(self, code: str, limit: int) -> list[Document]:
        """The cases filed under exactly this jurisdiction (on FerretDB 1.x a scan; on MongoDB the index)."""
        return [d async for d in self.collection.find({"code": code}).limit(limit)]

"""MongoDB access of the transfer service: the `cases` projection (a summary per case, and each to-do filed
under the jurisdiction that must act, so an inbox is one equality lookup on an indexed key).

The event stream (xueji_kit.store.EventStore) is the truth; this projection is rebuilt from it on every
change of a case, so a lost or stale write heals with the next one.
"""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from xueji_kit.store import Document


class CaseStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.cases = db["cases"]

    async def ensure_indexes(self) -> None:
        await self.cases.create_index([("code", ASCENDING)], name="inbox_by_jurisdiction")
        await self.cases.create_index([("transfer_id", ASCENDING)], name="by_case")

    async def project(self, transfer_id: str, version: int, summary: dict[str, Any], todos: list[Document]) -> None:
        """Replace the case's summary and to-dos with those of `version`, unless a newer one is there already."""
        newer = await self.cases.find_one({"_id": transfer_id, "version": {"$gt": version}}, {"_id": 1})
        if newer is not None:
            return
        await self.cases.update_one(
            {"_id": transfer_id}, {"$set": {**summary, "kind": "case", "version": version}}, upsert=True
        )
        for todo in todos:
            await self.cases.update_one({"_id": todo["_id"]}, {"$set": {**todo, "version": version}}, upsert=True)
        # What the case no longer asks for: every to-do not rewritten at this version.
        await self.cases.delete_many({"transfer_id": transfer_id, "kind": "todo", "version": {"$lt": version}})

    async def inbox(self, code: str, limit: int) -> list[Document]:
        """The to-dos filed under exactly this jurisdiction, most urgent (earliest due) first."""
        docs = [d async for d in self.cases.find({"code": code}).limit(limit)]
        return sorted(docs, key=lambda d: ((d.get("open_stage") or {}).get("due_at") or "~", d["_id"]))

    async def summary(self, transfer_id: str) -> Document | None:
        return await self.cases.find_one({"_id": transfer_id, "kind": "case"})

"""MongoDB access of the transfer service: the `cases` projection (a summary per case, and each to-do filed
under the jurisdiction that must act, so an inbox is one equality lookup on an indexed key).

The event stream is the truth; this projection is rewritten from the case on every change of it, so a lost
or stale write heals with the next one. On FerretDB 1.x the inbox's `code` lookup scans the collection (only
`{_id: value}` is pushed down to SQLite); writes, on the hot path of every command and timer, go by `_id`.
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
        """Replace the case's summary and to-dos with those of `version`, unless a newer one is there already.
        Writes by `_id` only (the one lookup FerretDB 1.x serves without a scan); the summary keeps the to-do ids."""
        current = await self.cases.find_one({"_id": transfer_id}, {"version": 1, "todo_ids": 1})
        if current is not None and int(current.get("version", 0)) > version:
            return
        ids = [todo["_id"] for todo in todos]
        for todo in todos:
            await self.cases.update_one({"_id": todo["_id"]}, {"$set": {**todo, "version": version}}, upsert=True)
        for stale in set(current.get("todo_ids", []) if current else []) - set(ids):
            await self.cases.delete_one({"_id": stale})
        fields = {**summary, "kind": "case", "version": version, "todo_ids": ids}
        await self.cases.update_one({"_id": transfer_id}, {"$set": fields}, upsert=True)

    async def inbox(self, code: str, limit: int) -> list[Document]:
        """The to-dos filed under exactly this jurisdiction, most urgent (earliest due) first."""
        docs = [d async for d in self.cases.find({"code": code}).limit(limit)]
        return sorted(docs, key=lambda d: ((d.get("open_stage") or {}).get("due_at") or "~", d["_id"]))

    async def summary(self, transfer_id: str) -> Document | None:
        return await self.cases.find_one({"_id": transfer_id, "kind": "case"})

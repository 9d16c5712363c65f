"""The inbox: one document per notification (stored once), and per-operator read receipts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase

from xueji_kit.store import Document, insert_many_once, insert_once, query_index
from xueji_notify.domain.jurisdiction import scopes_of
from xueji_notify.domain.notification import Notification


class InboxStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.notifications = db["notifications"]
        self.receipts = db["notification_receipts"]

    async def ensure_indexes(self) -> None:
        await query_index(self.notifications, [("scopes", ASCENDING)], name="by_scope")
        await query_index(self.notifications, [("scopes", ASCENDING), ("created_at", DESCENDING)], name="newest")

    async def add(self, notifications: list[Notification]) -> list[bool]:
        """Store each once, all in one round trip; for each, whether it is new (a redelivered event finds its
        notification already there and adds nothing)."""
        docs = [
            {"_id": n.notification_id, **n.model_dump(mode="python"), "scopes": scopes_of(n.jurisdiction),
             "acknowledged_at": None}
            for n in notifications
        ]  # fmt: skip
        there = await insert_many_once(self.notifications, docs)
        return [i not in there for i in range(len(docs))]

    async def query(
        self,
        scope: str,
        *,
        kind: str | None = None,
        due_before: datetime | None = None,
        unread_by: str | None = None,
        limit: int = 100,
    ) -> list[Document]:
        """Newest first, inside `scope` (a jurisdiction prefix; empty for the Ministry)."""
        query: dict[str, Any] = {"scopes": scope} if scope else {}
        if kind:
            query["kind"] = kind
        if due_before:
            query["due_at"] = {"$lt": due_before}
        cursor = self.notifications.find(query).sort("created_at", DESCENDING)
        found: list[Document] = []
        batch: list[Document] = []
        async for doc in cursor:
            batch.append(doc)
            if len(batch) >= 200:
                found += await self._keep_unread(batch, unread_by)
                batch = []
                if len(found) >= limit:
                    break
        found += await self._keep_unread(batch, unread_by)
        return found[:limit]

    async def _keep_unread(self, docs: list[Document], reader: str | None) -> list[Document]:
        if reader is None or not docs:
            return docs
        ids = [f"{d['_id']}:{reader}" for d in docs]
        read = {r["notification_id"] async for r in self.receipts.find({"_id": {"$in": ids}})}
        return [d for d in docs if d["_id"] not in read]

    async def get(self, notification_id: str) -> Document | None:
        return await self.notifications.find_one({"_id": notification_id})

    async def read_by(self, notification_ids: list[str], reader: str) -> set[str]:
        ids = [f"{n}:{reader}" for n in notification_ids]
        return {r["notification_id"] async for r in self.receipts.find({"_id": {"$in": ids}})}

    async def mark_read(self, notification_id: str, reader: str, at: datetime) -> bool:
        """Idempotent: the first read is recorded, later ones change nothing."""
        doc = {"_id": f"{notification_id}:{reader}", "notification_id": notification_id, "reader": reader, "at": at}
        return await insert_once(self.receipts, doc)

    async def acknowledge(self, notification_id: str, by: str, code: str, at: datetime) -> Document | None:
        """The first acknowledgement stands; acknowledging again returns the notification unchanged."""
        await self.notifications.update_one(
            {"_id": notification_id, "acknowledged_at": None},
            {"$set": {"acknowledged_at": at, "acknowledged_by": by, "acknowledged_code": code}},
        )
        return await self.get(notification_id)

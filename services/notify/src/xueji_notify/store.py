"""Notify's MongoDB access: the inbox of notifications, one document per notification."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from xueji_kit.store import Document, is_duplicate_key
from xueji_notify.domain import Notification


class InboxStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.notifications = db["notifications"]

    async def ensure_indexes(self) -> None:
        await self.notifications.create_index([("scopes", ASCENDING)], name="by_scope")

    async def add(self, notification: Notification) -> bool:
        """Store once; a redelivered event finds its notification already there and adds nothing."""
        code = notification.jurisdiction
        # Every enclosing jurisdiction, so each level's inbox is one equality lookup.
        scopes = sorted({code[:2], code[:4], code[:6], code})
        doc = {"_id": notification.notification_id, **notification.model_dump(), "scopes": scopes, "read": False}
        try:
            await self.notifications.insert_one(doc)
        except PyMongoError as exc:
            if is_duplicate_key(exc):
                return False
            raise
        return True

    async def for_jurisdiction(self, prefix: str, limit: int) -> list[dict[str, Any]]:
        """`prefix` is the operator's jurisdiction prefix; empty (the ministry) sees everything."""
        cursor = self.notifications.find({"scopes": prefix} if prefix else {})
        docs = [d async for d in cursor.limit(limit)]
        return sorted(docs, key=lambda d: d["created_at"], reverse=True)

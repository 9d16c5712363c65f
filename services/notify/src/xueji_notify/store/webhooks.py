"""Webhook registrations and deliveries (one document per delivery id, with every attempt)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase

from xueji_kit.store import Document, insert_once, query_index


class WebhookStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.webhooks = db["webhooks"]
        self.deliveries = db["webhook_deliveries"]

    async def ensure_indexes(self) -> None:
        await query_index(self.webhooks, [("scope", ASCENDING)], name="by_scope")
        await query_index(self.deliveries, [("webhook_id", ASCENDING)], name="by_webhook")

    async def register(self, doc: Document) -> Document:
        """The registration as stored: a retry whose id is derived from its Idempotency-Key finds the first one."""
        if await insert_once(self.webhooks, doc):
            return doc
        return await self.webhook(doc["_id"]) or doc

    async def webhook(self, webhook_id: str) -> Document | None:
        return await self.webhooks.find_one({"_id": webhook_id})

    async def for_scopes(self, scopes: list[str]) -> list[Document]:
        """Active hooks registered at any of these jurisdiction nodes."""
        return [d async for d in self.webhooks.find({"scope": {"$in": scopes}, "active": True})]

    async def under(self, scope: str) -> list[Document]:
        query: dict[str, Any] = {"scope": {"$regex": f"^{scope}"}} if scope else {}
        return [d async for d in self.webhooks.find(query)]

    async def deactivate(self, webhook_id: str, at: datetime, reason: str) -> None:
        fields = {"active": False, "deactivated_at": at, "deactivated_reason": reason}
        await self.webhooks.update_one({"_id": webhook_id}, {"$set": fields})

    async def activate(self, webhook_id: str, at: datetime, by: str) -> Document | None:
        """Active again, its deactivation forgotten; the hook as stored after, None when there is none. Each
        activation gets an id of its own, which an attempt reads with the hook: a 410 answered to an attempt made
        before this activation leaves the hook active (domain.webhooks.ended_by_gone)."""
        unset = {"deactivated_at": "", "deactivated_reason": ""}
        fields = {"active": True, "activated_at": at, "activated_by": by, "activation": uuid.uuid4().hex}
        await self.webhooks.update_one({"_id": webhook_id}, {"$set": fields, "$unset": unset})
        return await self.webhook(webhook_id)

    async def add_delivery(self, doc: Document) -> bool:
        return await insert_once(self.deliveries, doc)

    async def delivery(self, delivery_id: str) -> Document | None:
        return await self.deliveries.find_one({"_id": delivery_id})

    async def record_attempt(self, delivery_id: str, attempt: Document, fields: Document) -> None:
        """One attempt at a time per delivery (its timer claim), so this update has no concurrent writer."""
        await self.deliveries.update_one({"_id": delivery_id}, {"$push": {"attempts": attempt}, "$set": fields})

    async def finish(self, delivery_id: str, fields: Document) -> None:
        await self.deliveries.update_one({"_id": delivery_id}, {"$set": fields})

    async def reopen(self, delivery: Document, at: datetime) -> bool:
        """A failed delivery pending again for a new round of tries from its next attempt (a replay); False when it
        is no longer the failed one read (replayed or delivered meanwhile). One command, on `_id` and the state."""
        fields = {"state": "pending", "round_start": len(delivery.get("attempts") or []), "replayed_at": at}
        done = await self.deliveries.update_one(
            {"_id": delivery["_id"], "state": "failed"}, {"$set": fields, "$inc": {"replays": 1}}
        )
        return done.modified_count == 1

    async def deliveries_of(self, webhook_id: str, limit: int) -> list[Document]:
        cursor = self.deliveries.find({"webhook_id": webhook_id}).sort("created_at", DESCENDING).limit(limit)
        return [d async for d in cursor]

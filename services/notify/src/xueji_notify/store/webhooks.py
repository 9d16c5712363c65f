"""Webhook registrations, filed by scope for `_id` lookups, and deliveries (one document per id, with every attempt).

Finding the hooks of a notification is the hottest query here (once per notification), and FerretDB 1.x serves only a
plain `_id` equality from an index: a filter on `scope` and `active` read the whole collection. So each registration
is also filed under its scope in `webhook_scopes`, one document per hook at `_id = "<scope>:<n>"`, n = 0, 1, 2, ...
in registration order. A notification reads each of its scopes' slots from 0 to the first missing one, then each hook
named by `_id` for its `active` and `kinds`: its scopes (school, county, city, province: four) plus two reads per hook
ever registered at them, whatever the collection holds elsewhere.

Why slots and not one list per scope: the only write both stores make atomic is an insert that a unique `_id`
refuses. An update is read then write on FerretDB 1.x, so two registrations adding to one list (`$addToSet`) at once
could lose one; a slot is taken by an insert, and the loser of a race for it moves to the next. Why not a per-replica
cache: a registration on another replica would go unseen until a refresh, and noticing changes cheaply needs the same
kind of `_id`-keyed log. Slots are never removed or rewritten: stop, 410 Gone and activation change the hook's own
document only, which the reader consults, so there is no second copy of `active` to keep in step. The cost: a scope's
reads grow with the hooks ever registered at it, stopped ones included (a jurisdiction has a few).
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase

from xueji_kit.store import Document, insert_once, query_index


class WebhookStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.webhooks = db["webhooks"]
        self.scopes = db["webhook_scopes"]
        self.deliveries = db["webhook_deliveries"]

    async def ensure_indexes(self) -> None:
        await query_index(self.webhooks, [("scope", ASCENDING)], name="by_scope")
        await query_index(self.deliveries, [("webhook_id", ASCENDING)], name="by_webhook")

    async def register(self, doc: Document) -> Document:
        """The registration as stored: a retry whose id is derived from its Idempotency-Key finds the first one."""
        stored = doc if await insert_once(self.webhooks, doc) else (await self.webhook(doc["_id"]) or doc)
        await self._file(stored["scope"], stored["_id"])  # again on a retry: the first may have died before filing
        return stored

    async def webhook(self, webhook_id: str) -> Document | None:
        return await self.webhooks.find_one({"_id": webhook_id})

    async def for_scopes(self, scopes: list[str]) -> list[Document]:
        """Active hooks registered at any of these jurisdiction nodes: by `_id` only (see the module's note)."""
        filed = await asyncio.gather(*(self._filed(scope) for scope in scopes))
        ids = list(dict.fromkeys(webhook_id for ids in filed for webhook_id in ids))
        hooks = await asyncio.gather(*(self.webhook(webhook_id) for webhook_id in ids))
        return [hook for hook in hooks if hook is not None and hook.get("active")]

    async def file_by_scope(self) -> None:
        """The startup step that files hooks registered before they were filed by scope (or by a replica still
        running that code during a rolling upgrade). It reads the whole webhooks collection, once per start; filing
        a hook filed already changes nothing, and two replicas filing one hook at once file it once (`_file`)."""
        async for hook in self.webhooks.find({}, {"scope": 1}):
            await self._file(hook["scope"], hook["_id"])

    async def _filed(self, scope: str) -> list[str]:
        ids: list[str] = []
        while (slot := await self.scopes.find_one({"_id": _slot(scope, len(ids))})) is not None:
            ids.append(slot["webhook_id"])
        return ids

    async def _file(self, scope: str, webhook_id: str) -> None:
        """The hook in the first free slot of its scope, unless a slot before it names it already. Slots are only
        ever inserted, so every writer walks the same sequence: one that loses the insert for a slot reads who won
        it, which is the same hook when two file one hook at once."""
        n = 0
        while True:
            slot = await self.scopes.find_one({"_id": _slot(scope, n)})
            if slot is None:
                if await insert_once(self.scopes, {"_id": _slot(scope, n), "webhook_id": webhook_id}):
                    return
                continue  # taken meanwhile: read by whom
            if slot["webhook_id"] == webhook_id:
                return
            n += 1

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


def _slot(scope: str, n: int) -> str:
    return f"{scope}:{n}"

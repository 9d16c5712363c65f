"""Webhook registrations, filed by scope for `_id` lookups, and deliveries (one document per id, with every attempt).

FerretDB 1.x (the local store) serves only a plain `_id` equality from an index and reads the whole collection for
any other filter, so every read here is by `_id`:

- Finding the hooks of a notification, the hottest query (once per notification): each hook is filed under its scope
  in `webhook_scopes`, at `_id = "<scope>:<n>"`, n = 0, 1, 2, ... in filing order. A notification reads each of its
  scopes' slots from 0 to the first missing one, then each hook named by `_id` for its `active` and `kinds`.
- An owner's delivery log: each delivery is appended to its hook's list in `webhook_delivery_log` (store.ledger),
  read from its end; the delivery retention trims it from its front (store.retention).
- The hooks under a jurisdiction (`GET /v1/webhooks`, stopped ones included): each hook is appended to the list of
  every node from the nation down to its scope, in `webhooks_under`.
- A replay: the right to reopen a failed delivery is an insert at `"<delivery>:<replay n>"` in `webhook_replays`.

Why slots and not one list per scope: the only write both stores make atomic is an insert that a unique `_id`
refuses. An update is read then write on FerretDB 1.x, so two registrations adding to one list (`$addToSet`) at once
could lose one; a slot is taken by an insert, and the loser of a race for it moves to the next. Why not a per-replica
cache: a registration on another replica would go unseen until a refresh, and noticing changes cheaply needs the same
kind of `_id`-keyed log. Stop, 410 Gone and activation change the hook's own document, which the reader consults, so
there is no second copy of `active` to keep in step.

Pruning: a scope's slots would grow with every hook ever registered at it. When a hook is stopped or deactivated, its
scope is pruned (`prune`): its slots are read, then the hooks they name, and each run of slots naming only hooks that
are inactive or gone (or named again by a later slot) is skipped over by a `skip_to` written on the run's first
slot, which readers and filers follow. No live hook is lost to a race, because a hook becomes live again only by an
activation, which files it in a new slot at the end after it is active: a pruner that read the hook inactive did so
before the activation, so the new slot is either beyond what it read or it read the hook active.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import structlog
from pymongo.asynchronous.database import AsyncDatabase

from xueji_kit.store import Document, insert_once
from xueji_notify.domain.jurisdiction import ancestors
from xueji_notify.store.ledger import Ledger

log = structlog.get_logger("notify.webhooks")
# The start-up step's marker: present once the hooks and deliveries stored before this layout are filed.
UPGRADED = "by-id-1"
# A replay's claim older than this whose reopening is not to be seen was made by a replayer that died in between.
STALE_REPLAY = timedelta(minutes=1)


@dataclass(frozen=True)
class _Slot:
    n: int
    webhook_id: str | None  # None: a skip over dead slots, to `after`
    after: int


class WebhookStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.webhooks = db["webhooks"]
        self.scopes = db["webhook_scopes"]
        self.deliveries = db["webhook_deliveries"]
        self.replays = db["webhook_replays"]
        self.upgrades = db["webhook_upgrades"]
        self.listed = Ledger(db["webhooks_under"])
        # Trimmed from its front by the delivery retention (store.retention): where each hook's log starts.
        self.delivery_log = Ledger(db["webhook_delivery_log"], db["webhook_delivery_log_starts"])

    async def register(self, doc: Document) -> Document:
        """The registration as stored: a retry whose id is derived from its Idempotency-Key finds the first one."""
        if await insert_once(self.webhooks, doc):
            await self._list(doc)
            await self._append(doc["scope"], doc["_id"])
            return doc
        stored = await self.webhook(doc["_id"]) or doc
        # Filed again on a retry: the first may have died before filing (listed twice then, which readers fold).
        await self._list(stored)
        await self._file(stored["scope"], stored["_id"])
        return stored

    async def webhook(self, webhook_id: str) -> Document | None:
        return await self.webhooks.find_one({"_id": webhook_id})

    async def for_scopes(self, scopes: list[str]) -> list[Document]:
        """Active hooks registered at any of these jurisdiction nodes: by `_id` only (see the module's note)."""
        filed = await asyncio.gather(*(self._filed(scope) for scope in scopes))
        ids = list(dict.fromkeys(webhook_id for ids in filed for webhook_id in ids))
        hooks = await asyncio.gather(*(self.webhook(webhook_id) for webhook_id in ids))
        return [hook for hook in hooks if hook is not None and hook.get("active")]

    async def under(self, node: str) -> list[Document]:
        """The hooks registered at this jurisdiction node or inside it, stopped ones included, in registration order."""
        hooks = await asyncio.gather(*(self.webhook(webhook_id) for webhook_id in await self.listed.every(node)))
        return [hook for hook in hooks if hook is not None]

    async def upgrade(self) -> None:
        """The start-up step that files what was stored before this layout (or by a replica still running the
        earlier code during a rolling upgrade): every hook for delivery and listing, every delivery in its hook's
        log, and each scope pruned. It reads both collections whole, once: then it stores its marker, and a later
        start reads only that, by `_id`. Safe to repeat and on two replicas at once: filing a hook filed already
        changes nothing, and a hook or delivery listed twice is shown once."""
        if await self.upgrades.find_one({"_id": UPGRADED}) is not None:
            return
        scopes: set[str] = set()
        async for hook in self.webhooks.find({}, {"scope": 1}):
            await self._list(hook)
            await self._file(hook["scope"], hook["_id"])
            scopes.add(hook["scope"])
        for scope in sorted(scopes):
            await self.prune(scope)
        deliveries = 0
        async for delivery in self.deliveries.find({}, {"webhook_id": 1, "log_entry": 1}).sort("created_at", 1):
            if "log_entry" not in delivery:  # else listed when stored
                await self.delivery_log.append(delivery["webhook_id"], delivery["_id"])
                deliveries += 1
        await insert_once(self.upgrades, {"_id": UPGRADED, "at": datetime.now(UTC)})
        log.info("webhooks_filed_by_id", scopes=len(scopes), deliveries=deliveries)

    async def _list(self, hook: Document) -> None:
        for node in ancestors(hook["scope"]):
            await self.listed.append(node, hook["_id"])

    async def _slots(self, scope: str) -> list[_Slot]:
        """The slots of a scope a reader reads, in order, skips followed."""
        slots: list[_Slot] = []
        n = 0
        while (slot := await self.scopes.find_one({"_id": _slot(scope, n)})) is not None:
            after = int(slot.get("skip_to", n + 1))
            slots.append(_Slot(n, None if "skip_to" in slot else str(slot["webhook_id"]), after))
            n = after
        return slots

    async def _filed(self, scope: str) -> list[str]:
        return [s.webhook_id for s in await self._slots(scope) if s.webhook_id is not None]

    async def _end(self, scope: str, webhook_id: str, *, anew: bool) -> None:
        n, raced = 0, -1
        while True:
            slot = await self.scopes.find_one({"_id": _slot(scope, n)})
            if slot is None:
                if await insert_once(self.scopes, {"_id": _slot(scope, n), "webhook_id": webhook_id}):
                    return
                raced = n
                continue  # taken meanwhile: read by whom
            if "skip_to" in slot:
                n = int(slot["skip_to"])
                continue
            if slot["webhook_id"] == webhook_id and (not anew or n == raced):
                return
            n += 1

    async def _file(self, scope: str, webhook_id: str) -> None:
        """The hook in the first free slot of its scope, unless a slot a reader reads names it already. Slots are only
        ever inserted, so every writer walks the same sequence: one that loses the insert for a slot reads who won
        it, which is the same hook when two file one hook at once."""
        await self._end(scope, webhook_id, anew=False)

    async def _append(self, scope: str, webhook_id: str) -> None:
        """The hook in a new slot at the end of its scope, filed after it became live (registered or activated), so
        a pruner that read it dead prunes none of what it is filed at now (see the module's note)."""
        await self._end(scope, webhook_id, anew=True)

    async def prune(self, scope: str) -> None:
        """Skip, in the scope's slots, each run of slots naming only hooks that are inactive or gone, or named again by
        a later slot. Slots first, then the hooks (the order a live hook's safety rests on: see the module's note)."""
        slots = await self._slots(scope)
        ids = list(dict.fromkeys(s.webhook_id for s in slots if s.webhook_id is not None))
        hooks = await asyncio.gather(*(self.webhook(webhook_id) for webhook_id in ids))
        live = {hook["_id"] for hook in hooks if hook is not None and hook.get("active")}
        kept = {s.webhook_id: s.n for s in slots if s.webhook_id in live}  # the last slot naming each live hook
        run: list[_Slot] = []
        for slot in [*slots, None]:
            if slot is not None and kept.get(slot.webhook_id) != slot.n:
                run.append(slot)
                continue
            if len(run) > 1:
                after = run[-1].after
                await self.scopes.update_one({"_id": _slot(scope, run[0].n)}, {"$set": {"skip_to": after}})
            run = []

    async def deactivate(self, webhook_id: str, at: datetime, reason: str) -> None:
        """Stopped or gone: delivered nothing more, and its scope pruned of it."""
        fields = {"active": False, "deactivated_at": at, "deactivated_reason": reason}
        await self.webhooks.update_one({"_id": webhook_id}, {"$set": fields})
        if (hook := await self.webhook(webhook_id)) is not None:
            await self.prune(hook["scope"])

    async def activate(self, webhook_id: str, at: datetime, by: str) -> Document | None:
        """Active again, its deactivation forgotten, and filed anew at the end of its scope's slots; the hook as
        stored after, None when there is none. Each activation gets an id of its own, which an attempt reads with
        the hook: a 410 answered to an attempt made before this activation leaves the hook active
        (domain.webhooks.ended_by_gone)."""
        unset = {"deactivated_at": "", "deactivated_reason": ""}
        fields = {"active": True, "activated_at": at, "activated_by": by, "activation": uuid.uuid4().hex}
        await self.webhooks.update_one({"_id": webhook_id}, {"$set": fields, "$unset": unset})
        if (hook := await self.webhook(webhook_id)) is not None:
            await self._append(hook["scope"], webhook_id)
        return hook

    async def add_delivery(self, doc: Document) -> bool:
        """Stored once; False when it is there already. Listed in its hook's log first, the entry's number stored
        with it (`log_entry`), so a crash in between leaves an entry naming a delivery not stored, which the
        redelivery lists and stores; an entry whose delivery names another entry is a repeat, which readers skip.
        An entry the retention passed over meanwhile (it read no delivery there yet) is below the log's start, unseen:
        asked after storing, so one of the two lists it again (store.retention)."""
        hook, delivery_id = doc["webhook_id"], doc["_id"]
        entry = await self.delivery_log.append(hook, delivery_id)
        if not await insert_once(self.deliveries, doc | {"log_entry": entry}):
            return False
        while not await self.delivery_log.kept(hook, entry):
            entry = await self.delivery_log.relist(hook, delivery_id, entry)
            await self.deliveries.update_one({"_id": delivery_id}, {"$set": {"log_entry": entry}})
        return True

    async def delivery(self, delivery_id: str) -> Document | None:
        return await self.deliveries.find_one({"_id": delivery_id})

    async def record_attempt(self, delivery_id: str, attempt: Document, fields: Document) -> None:
        """One attempt at a time per delivery (its timer claim), so this update has no concurrent writer."""
        await self.deliveries.update_one({"_id": delivery_id}, {"$push": {"attempts": attempt}, "$set": fields})

    async def finish(self, delivery_id: str, fields: Document) -> None:
        await self.deliveries.update_one({"_id": delivery_id}, {"$set": fields})

    async def reopen(self, delivery: Document, at: datetime) -> bool:
        """A failed delivery pending again for a new round of tries from its next attempt (a replay); False when it
        is no longer the failed one read (replayed or delivered meanwhile). Its replay number n is claimed by an
        insert at `"<delivery>:<n>"`, so of two replays of one failed round one reopens it; then it is updated by
        `_id`. A claim a minute old whose delivery was not reopened was made by a replayer that died in between:
        this replay reopens it."""
        replays = int(delivery.get("replays", 0)) + 1
        claim = {"_id": f"{delivery['_id']}:{replays}", "at": at}
        if not await insert_once(self.replays, claim):
            held = await self.replays.find_one({"_id": claim["_id"]})
            if held is None or at - held["at"].replace(tzinfo=UTC) < STALE_REPLAY:
                return False
            stored = await self.delivery(delivery["_id"])
            if stored is None or stored["state"] != "failed" or int(stored.get("replays", 0)) != replays - 1:
                return False
        fields = {"state": "pending", "round_start": len(delivery.get("attempts") or []), "replayed_at": at,
                  "replays": replays}  # fmt: skip
        await self.deliveries.update_one({"_id": delivery["_id"]}, {"$set": fields})
        return True

    async def deliveries_of(self, webhook_id: str, limit: int) -> list[Document]:
        """The hook's latest `limit` deliveries, latest first: read back from the end of its log to its start (the
        oldest kept by the retention), by `_id`."""
        first = await self.delivery_log.start(webhook_id)  # moved on meanwhile: its removed entries are skipped
        end = await self.delivery_log.end(webhook_id)
        found: dict[str, Document] = {}
        while len(found) < limit and end > first:
            start = max(end - (limit - len(found)), first)
            entries = await self.delivery_log.latest_first(webhook_id, start, end)
            docs = await asyncio.gather(*(self.delivery(delivery_id) for _, delivery_id in entries))
            for (n, delivery_id), doc in zip(entries, docs, strict=True):
                # Skipped: not stored (or removed by the retention meanwhile), or listed again (a redelivery; one
                # stored before the log: by its id).
                if doc is not None and delivery_id not in found and doc.get("log_entry", n) == n:
                    found[delivery_id] = doc
            end = start
        return sorted(found.values(), key=lambda d: d["created_at"], reverse=True)


def _slot(scope: str, n: int) -> str:
    return f"{scope}:{n}"

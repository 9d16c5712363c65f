"""Timers kept with inserts and `_id` lookups alone, so a scheduler tick costs the timers due and not the timers
armed, on FerretDB 1.x too: its SQLite backend serves only `{_id: value}` finds and inserts without a scan;
every other filter, and every update or delete even by `_id`, reads the whole collection (measured in bench/).

Every armed timer takes the next free slot of its due minute, `{minute}:{n}`, by an insert the unique `_id`
decides; a minute's slots fill from 0 without gaps, so a minute is read slot by slot up to the first free one.
A timer's end (fired or cancelled) is an insert too, into `timer_done`: the first end recorded is the one.
"""

from __future__ import annotations

from datetime import datetime

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from xueji_kit.store import Document, is_duplicate_key
from xueji_kit.timers import Timer, TimerStore, minute_of


class SlottedTimerStore(TimerStore):
    """The kit's TimerStore (same timer documents, claims and progress) with a slot index and end markers."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        super().__init__(db)
        self.slots = db["timer_slots"]
        self.done = db["timer_done"]

    async def arm(self, timer: Timer) -> bool:
        if await self.timers.find_one({"_id": timer.timer_id}, {"_id": 1}) is not None:
            return False  # armed before: re-arming changes nothing
        minute = minute_of(timer.due_at)
        slot = await self._first_free_slot(minute)
        # Slot before timer: a crash in between leaves a slot without a timer, which is skipped.
        while not await _insert(self.slots, {"_id": _slot_id(minute, slot), "timer_id": timer.timer_id}):
            slot += 1
        return await super().arm(timer)

    async def due_in_minute(self, minute: int) -> list[Document]:
        found: dict[str, Document] = {}
        slot = 0
        while (taken := await self.slots.find_one({"_id": _slot_id(minute, slot)})) is not None:
            slot += 1
            timer_id = taken["timer_id"]
            if timer_id not in found and (doc := await self.timers.find_one({"_id": timer_id})) is not None:
                found[timer_id] = await self._current(doc)
        return list(found.values())

    async def mark_fired(self, timer_id: str) -> None:
        await _insert(self.done, {"_id": timer_id, "state": "fired"})

    async def cancel(self, timer_id: str) -> None:
        """A cancelled timer never fires; cancelling one that fired already is harmless."""
        await _insert(self.done, {"_id": timer_id, "state": "cancelled"})

    async def armed_for(self, aggregate_id: str) -> list[Timer]:
        docs = [await self._current(d) async for d in self.timers.find({"aggregate_id": aggregate_id})]
        return [Timer(d["_id"], d["kind"], d["aggregate_id"], d["due_at"], d.get("data", {})) for d in docs
                if d["state"] == "armed"]  # fmt: skip

    async def armed(self) -> list[Document]:
        """Every timer still armed: a sweep over all of them, for administration and tests only."""
        docs = [await self._current(d) async for d in self.timers.find({})]
        return [d for d in docs if d["state"] == "armed"]

    async def next_attempt(self, timer_id: str, attempt: int, not_before: datetime, failed: bool) -> None:
        """After a failed firing (rare): an update, the one write here that reads the whole collection."""
        if failed:
            await _insert(self.done, {"_id": timer_id, "state": "failed"})
        doc = await self.timers.find_one({"_id": timer_id}, {"attempt": 1})
        if doc is not None and doc.get("attempt") in (attempt, None):
            update = {"attempt": attempt + 1, "not_before": not_before}
            await self.timers.update_one({"_id": timer_id}, {"$set": update})

    async def _current(self, doc: Document) -> Document:
        end = await self.done.find_one({"_id": doc["_id"]})
        return doc if end is None else {**doc, "state": end["state"]}

    async def _taken(self, minute: int, slot: int) -> bool:
        return await self.slots.find_one({"_id": _slot_id(minute, slot)}, {"_id": 1}) is not None

    async def _first_free_slot(self, minute: int) -> int:
        """Slots 0..k-1 are taken and k is free: galloping then bisecting finds k in O(log k) lookups."""
        if not await self._taken(minute, 0):
            return 0
        taken, step = 0, 1
        while await self._taken(minute, taken + step):
            taken, step = taken + step, step * 2
        free = taken + step
        while free - taken > 1:
            middle = (taken + free) // 2
            taken, free = (middle, free) if await self._taken(minute, middle) else (taken, middle)
        return free


async def _insert(collection: AsyncCollection[Document], doc: Document) -> bool:
    """Insert once: False when the `_id` is there already."""
    try:
        await collection.insert_one(doc)
    except PyMongoError as exc:
        if is_duplicate_key(exc):
            return False
        raise
    return True


def _slot_id(minute: int, slot: int) -> str:
    return f"{minute}:{slot}"

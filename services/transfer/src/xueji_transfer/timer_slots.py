"""Timers found by `_id` alone, so a scheduler tick costs the timers due and not the timers armed, on FerretDB
1.x too (its SQLite backend pushes down nothing but `{_id: value}`; the kit's `{minute: m}` lookup scans).

Every armed timer takes the next free slot of its due minute, `{minute}:{n}`, by an insert the unique `_id`
decides; a minute's slots are filled from 0 without gaps, so it is read slot by slot up to the first free one.
"""

from __future__ import annotations

from datetime import datetime

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from xueji_kit.store import Document, is_duplicate_key
from xueji_kit.timers import Timer, TimerStore, minute_of


class SlottedTimerStore(TimerStore):
    """The kit's TimerStore (same documents, same claims and progress) with a slot index of due minutes."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        super().__init__(db)
        self.slots = db["timer_slots"]

    async def arm(self, timer: Timer) -> bool:
        if await self.timers.find_one({"_id": timer.timer_id}, {"_id": 1}) is not None:
            return False  # armed before: re-arming changes nothing
        minute = minute_of(timer.due_at)
        slot = await self._first_free_slot(minute)
        # Slot before timer: a crash in between leaves a slot without a timer, which is skipped.
        while not await self._take(minute, slot, timer.timer_id):
            slot += 1
        return await super().arm(timer)

    async def due_in_minute(self, minute: int) -> list[Document]:
        found: dict[str, Document] = {}
        slot = 0
        while (taken := await self.slots.find_one({"_id": _slot_id(minute, slot)})) is not None:
            slot += 1
            if taken["timer_id"] not in found and (doc := await self.timers.find_one({"_id": taken["timer_id"]})):
                found[taken["timer_id"]] = doc
        return list(found.values())

    async def cancel(self, timer_id: str) -> None:
        doc = await self.timers.find_one({"_id": timer_id}, {"state": 1})
        if doc is not None and doc["state"] == "armed":
            await self.timers.update_one({"_id": timer_id}, {"$set": {"state": "cancelled"}})

    async def next_attempt(self, timer_id: str, attempt: int, not_before: datetime, failed: bool) -> None:
        doc = await self.timers.find_one({"_id": timer_id}, {"attempt": 1})
        if doc is None or doc.get("attempt") not in (attempt, None):
            return  # another replica moved it on already
        update: Document = {"attempt": attempt + 1, "not_before": not_before}
        if failed:
            update["state"] = "failed"
        await self.timers.update_one({"_id": timer_id}, {"$set": update})

    async def _taken(self, minute: int, slot: int) -> bool:
        return await self.slots.find_one({"_id": _slot_id(minute, slot)}, {"_id": 1}) is not None

    async def _take(self, minute: int, slot: int, timer_id: str) -> bool:
        try:
            await self.slots.insert_one({"_id": _slot_id(minute, slot), "timer_id": timer_id})
        except PyMongoError as exc:
            if is_duplicate_key(exc):
                return False
            raise
        return True

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


def _slot_id(minute: int, slot: int) -> str:
    return f"{minute}:{slot}"

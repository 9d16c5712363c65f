"""Leadership by time slot: whoever inserts the slot's document first holds it (no update races).

FerretDB 1.x has no atomic read-modify-write, so a lease is never renewed in place: the holder of
slot k claims slot k+1 early, before any other replica may try, and every claim is a plain insert
that the unique `_id` index decides.
"""

from __future__ import annotations

from datetime import datetime

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import PyMongoError

from xueji_kit.store import Document, is_duplicate_key


class SlotLease:
    def __init__(self, collection: AsyncCollection[Document], name: str, holder: str, slot_seconds: int = 10) -> None:
        self._leases = collection
        self.name = name
        self.holder = holder
        self.slot_seconds = slot_seconds
        self._known: dict[int, bool] = {}

    def slot_of(self, now: datetime) -> int:
        return int(now.timestamp()) // self.slot_seconds

    async def holds(self, now: datetime) -> bool:
        """True when this holder owns the slot `now` falls in; claims it if nobody has."""
        slot = self.slot_of(now)
        held = await self._claim(slot)
        # Claim the next slot in the last third of ours, before other replicas may try it.
        into_slot = now.timestamp() - slot * self.slot_seconds
        if held and into_slot >= self.slot_seconds * 2 / 3:
            await self._claim(slot + 1)
        return held

    async def _claim(self, slot: int) -> bool:
        if slot in self._known:
            return self._known[slot]
        doc_id = f"{self.name}:{slot}"
        try:
            await self._leases.insert_one({"_id": doc_id, "name": self.name, "slot": slot, "holder": self.holder})
            held = True
        except PyMongoError as exc:
            if not is_duplicate_key(exc):
                raise
            existing = await self._leases.find_one({"_id": doc_id})
            held = existing is not None and existing.get("holder") == self.holder
        self._known = {s: h for s, h in self._known.items() if s >= slot - 1}
        self._known[slot] = held
        return held

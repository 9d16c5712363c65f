"""Readable case numbers, `ZX-<receiving county>-<year>-<seq>` (e.g. ZX-350602-2026-000123), beside the internal id.

Unique in the province (the county is part of the number) without an atomic increment, which the store does not
have: a number is the document `ZX-350602-2026#123` and the insert a unique `_id` refuses is the only lock, as for
R07 numbers. The highest number taken is found by `_id` lookups (galloping from the last one seen, then bisecting).
The case's claim `case:<transfer id>` records its number, so a retried application keeps it; a number won by a
request that then lost the claim to its own retry stays unused (unique, not gapless: case numbers need no more).
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from pymongo.asynchronous.database import AsyncDatabase

from xueji_contracts.division import Division
from xueji_kit.group_insert import GroupInserts
from xueji_kit.store import Document

CST = ZoneInfo("Asia/Shanghai")
NUMBER = re.compile(r"^ZX-(\d{6})-(\d{4})-(\d{6,})$")


def scope_of(receiving_school: str, at: datetime) -> str:
    return f"ZX-{Division.parse(receiving_school).county.code}-{at.astimezone(CST).year}"


def number(scope: str, seq: int) -> str:
    return f"{scope}-{seq:06d}"


class CaseNumbers:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.collection = db["case_numbers"]
        self._top: dict[str, int] = {}  # the highest number taken or reserved here, by scope
        self.grouped = GroupInserts()

    async def allocate(self, transfer_id: str, receiving_school: str, at: datetime, *, new: bool = False) -> str:
        """The case's number: the one it has, or the next free one in its county and year. `new`: the id was just
        minted, so it has no number yet and none is looked up (its claim, an insert, still decides)."""
        known = None if new else await self.of(transfer_id)
        if known is not None:
            return known
        scope = scope_of(receiving_school, at)
        seq = max(await self._top_of(scope), self._top.get(scope, 0)) + 1
        # Reserved here at once: concurrent applications in this replica take the next numbers instead of racing
        # for this one (another replica's still loses its insert and moves on).
        self._top[scope] = seq
        while not await self._insert({"_id": f"{scope}#{seq}", "transfer_id": transfer_id}):
            seq = max(seq, self._top.get(scope, 0)) + 1
            self._top[scope] = seq
        if await self._insert({"_id": f"case:{transfer_id}", "number": number(scope, seq)}):
            return number(scope, seq)
        return await self.of(transfer_id) or number(scope, seq)

    async def _insert(self, doc: Document) -> bool:
        """Insert once (False: the `_id` is taken); concurrent applications' inserts go as one command."""
        return not await self.grouped.of(self.collection).insert_many_once([doc])

    async def of(self, transfer_id: str) -> str | None:
        claim = await self.collection.find_one({"_id": f"case:{transfer_id}"})
        return None if claim is None else str(claim["number"])

    async def transfer_of(self, case_number: str) -> str | None:
        """The internal id behind a case number, or None (not a case number, or not taken)."""
        found = NUMBER.match(case_number)
        if found is None:
            return None
        county, year, seq = found.groups()
        doc = await self.collection.find_one({"_id": f"ZX-{county}-{year}#{int(seq)}"})
        return None if doc is None else str(doc["transfer_id"])

    async def _top_of(self, scope: str) -> int:
        low, step = self._top.get(scope, 0), 1
        while await self._taken(scope, low + step):
            low, step = low + step, step * 2
        high = low + step
        while high - low > 1:
            middle = (low + high) // 2
            low, high = (middle, high) if await self._taken(scope, middle) else (low, middle)
        return low

    async def _taken(self, scope: str, seq: int) -> bool:
        return seq > 0 and await self.collection.find_one({"_id": f"{scope}#{seq}"}, {"_id": 1}) is not None

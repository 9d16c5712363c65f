"""Numbered, insert-only lists read by `_id`: entry n of a list is the document `"<key>:<n>"`, n = 0, 1, 2, ...

What notify lists by something other than `_id` (a hook's deliveries, the hooks under a jurisdiction) is kept in
such a list, because FerretDB 1.x serves only a plain `_id` equality from an index and reads the whole collection
for any other filter. The numbers are dense: an entry is only inserted where the one before it exists, so the end of
a list is its first missing number, found by doubling then halving (about 2 log2 n reads), and the last entries are
read by number. Each list's end as last seen is kept per process, so appending is usually one insert; an insert a
unique `_id` refuses (another replica took the number) moves to the next number. Entries are never removed or
rewritten, so what a list once named it names for good: a reader skips what is gone, and removes repeats (a retry
appends again).
"""

from __future__ import annotations

import asyncio

from pymongo.asynchronous.collection import AsyncCollection

from xueji_kit.store import Document, insert_once


class Ledger:
    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self.collection = collection
        self._ends: dict[str, int] = {}  # per list: a number below which every entry exists

    async def append(self, key: str, ref: str) -> int:
        """`ref` at the end of the list `key`; its number."""
        n = self._ends.get(key, 0)
        while not await insert_once(self.collection, {"_id": _entry(key, n), "ref": ref}):
            n = await self._end(key, n + 1)
        self._ends[key] = n + 1
        return n

    async def latest_first(self, key: str, start: int, stop: int) -> list[tuple[int, str]]:
        """The entries `stop - 1` down to `start` (those there), as their numbers and refs."""
        numbers = range(stop - 1, start - 1, -1)
        entries = await asyncio.gather(*(self.collection.find_one({"_id": _entry(key, n)}) for n in numbers))
        return [(n, str(e["ref"])) for n, e in zip(numbers, entries, strict=True) if e is not None]

    async def every(self, key: str) -> list[str]:
        """Every ref of the list, in the order appended, each once."""
        refs: list[str] = []
        while (entry := await self.collection.find_one({"_id": _entry(key, len(refs))})) is not None:
            refs.append(str(entry["ref"]))
        self._ends[key] = max(self._ends.get(key, 0), len(refs))
        return list(dict.fromkeys(refs))

    async def end(self, key: str) -> int:
        """How many entries the list has (its first missing number)."""
        end = await self._end(key, self._ends.get(key, 0))
        self._ends[key] = end
        return end

    async def _end(self, key: str, start: int) -> int:
        """The first missing number at or after `start`, every entry below `start` existing."""
        low, high, step = start, start, 1  # entries below `low` exist
        while await self._has(key, high):
            low, high, step = high + 1, high + step, step * 2
        while low < high:  # entry `high` was missing
            middle = (low + high) // 2
            if await self._has(key, middle):
                low = middle + 1
            else:
                high = middle
        return low

    async def _has(self, key: str, n: int) -> bool:
        return await self.collection.find_one({"_id": _entry(key, n)}, {"_id": 1}) is not None


def _entry(key: str, n: int) -> str:
    return f"{key}:{n}"

"""Numbered, insert-only lists read by `_id`: entry n of a list is the document `"<key>:<n>"`, n = 0, 1, 2, ...

What notify lists by something other than `_id` (a hook's deliveries, the hooks under a jurisdiction) is kept in
such a list, because FerretDB 1.x serves only a plain `_id` equality from an index and reads the whole collection
for any other filter. The numbers are dense from the list's start: an entry is only inserted where the one before it
exists, so the end of a list is its first missing number, found by doubling then halving (about 2 log2 n reads), and
the last entries are read by number. Each list's end as last seen is kept per process, so appending is usually one
insert; an insert a unique `_id` refuses (another replica took the number) moves to the next number. Entries are never
rewritten, so what a list once named it names for good: a reader skips what is gone, and removes repeats (a retry
appends again).

A list kept with `starts` may be trimmed from its front (a retention): its start, the oldest kept number, is the
document `_id = <key>` there (0 while there is none). The trimmer moves the start first and removes the entries below
it after, so every entry from the start to the end exists; a reader that finds the start moved while it searched for
the end searches again. An entry inserted below the start (a stale end, the slot removed meanwhile) is unseen: its
writer asks `kept` after storing what it lists and lists it again if not (store.retention).
"""

from __future__ import annotations

import asyncio

from pymongo.asynchronous.collection import AsyncCollection

from xueji_kit.store import Document, insert_once


class Ledger:
    def __init__(self, collection: AsyncCollection[Document], starts: AsyncCollection[Document] | None = None) -> None:
        self.collection = collection
        self.starts = starts
        self._ends: dict[str, int] = {}  # per list: a number at or after its start at which no later entry was seen

    async def append(self, key: str, ref: str) -> int:
        """`ref` at the end of the list `key`; its number."""
        n = self._ends[key] if key in self._ends else await self.start(key)
        while not await insert_once(self.collection, {"_id": _entry(key, n), "ref": ref}):
            n = await self._end(key, n + 1)
        self._ends[key] = n + 1
        return n

    async def latest_first(self, key: str, start: int, stop: int) -> list[tuple[int, str]]:
        """The entries `stop - 1` down to `start` (those there), as their numbers and refs."""
        numbers = range(stop - 1, start - 1, -1)
        entries = await asyncio.gather(*(self.collection.find_one({"_id": _entry(key, n)}) for n in numbers))
        return [(n, str(e["ref"])) for n, e in zip(numbers, entries, strict=True) if e is not None]

    async def entries(self, key: str, start: int, stop: int) -> list[tuple[int, str | None]]:
        """The entries `start` to `stop - 1` in order, as their numbers and refs (None: not there)."""
        numbers = range(start, stop)
        found = await asyncio.gather(*(self.collection.find_one({"_id": _entry(key, n)}) for n in numbers))
        return [(n, None if e is None else str(e["ref"])) for n, e in zip(numbers, found, strict=True)]

    async def every(self, key: str) -> list[str]:
        """Every ref of the list, in the order appended, each once."""
        start = n = await self.start(key)
        refs: list[str] = []
        while (entry := await self.collection.find_one({"_id": _entry(key, n)})) is not None:
            refs.append(str(entry["ref"]))
            n += 1
        if n > start:
            self._ends[key] = max(self._ends.get(key, 0), n)
        return list(dict.fromkeys(refs))

    async def end(self, key: str) -> int:
        """How many entries the list has had (its first missing number at or after its start)."""
        start = await self.start(key)
        while True:
            end = await self._end(key, max(self._ends.get(key, 0), start))
            if (moved := await self.start(key)) == start:  # no entry at or after `start` removed meanwhile
                self._ends[key] = end
                return end
            start = moved

    async def start(self, key: str) -> int:
        """The list's oldest kept number (0 for a list never trimmed)."""
        if self.starts is None:
            return 0
        found = await self.starts.find_one({"_id": key})
        return int(found["start"]) if found else 0

    async def kept(self, key: str, n: int) -> bool:
        """Whether entry `n` is at or after the list's start, where readers see it."""
        return n >= await self.start(key)

    async def trimmed(self, key: str) -> tuple[int, int]:
        """The list's start, and the number below which its trimmed entries are removed (at most the start)."""
        found = await self.starts.find_one({"_id": key}) if self.starts is not None else None
        return (int(found["start"]), int(found["cleared"])) if found else (0, 0)

    async def move_start(self, key: str, start: int) -> None:
        """Readers begin at `start` from now on (never moved back: `$max`); the entries below it are removed after."""
        assert self.starts is not None, "a list kept without starts is never trimmed"
        await insert_once(self.starts, {"_id": key, "start": 0, "cleared": 0})
        await self.starts.update_one({"_id": key}, {"$max": {"start": start}})

    async def cleared(self, key: str, below: int) -> None:
        """Every trimmed entry below `below` is removed."""
        assert self.starts is not None
        await self.starts.update_one({"_id": key}, {"$max": {"cleared": below}})

    async def relist(self, key: str, ref: str, n: int) -> int:
        """Entry `n` named `ref` but is below the start (unseen): `ref` appended again at the end, found afresh from
        the start, and entry `n` removed. The new entry's number."""
        self._ends.pop(key, None)
        again = await self.append(key, ref)
        await self.remove(key, n)
        return again

    async def remove(self, key: str, n: int) -> None:
        await self.collection.delete_one({"_id": _entry(key, n)})

    async def _end(self, key: str, start: int) -> int:
        """The first missing number at or after `start`, every entry from the list's start to `start` existing."""
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

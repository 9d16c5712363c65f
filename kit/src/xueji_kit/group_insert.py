"""Group commit: inserts that concurrent tasks make into one collection go to the store as one `insert_many`.

On the local store an `insert_many` of ten documents costs little more than one `insert_one` (one command, one
SQLite transaction), so ten decisions answered at once write their commits in one command instead of ten. Nothing is
weakened: each caller still waits until the command holding its documents has returned, so what it was told is stored
is stored; each document's own outcome (stored, or refused as a duplicate `_id`) is its caller's alone.

Batches form by themselves: the first insert starts a flush on the next turn of the event loop, and the documents that
arrive while a flush is in flight go in the next one. A lone insert is one command, as before.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError, DuplicateKeyError, WriteError

Document = dict[str, Any]
MAX_BATCH = 500
_FLUSHING: set[asyncio.Task[None]] = set()  # the loop holds tasks weakly: these are held until they end


@dataclass
class _Pending:
    docs: list[Document]
    done: asyncio.Future[set[int]] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class GroupInsert:
    """Group-committed inserts into one collection."""

    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self._collection = collection
        self._queue: list[_Pending] = []
        self._flusher: asyncio.Task[None] | None = None

    async def insert_many_once(self, docs: list[Document]) -> set[int]:
        """Insert `docs` (with the inserts of concurrent callers); the indexes of those whose `_id` was taken."""
        if not docs:
            return set()
        pending = _Pending(docs)
        self._queue.append(pending)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush(), name="group_insert")
            _FLUSHING.add(self._flusher)
            self._flusher.add_done_callback(_FLUSHING.discard)
        return await asyncio.shield(pending.done)

    async def insert_one(self, doc: Document) -> None:
        """As `collection.insert_one`: raises DuplicateKeyError when the `_id` is taken."""
        if await self.insert_many_once([doc]):
            raise DuplicateKeyError(f"E11000 duplicate key error: _id {doc.get('_id')!r}", 11000)

    async def _flush(self) -> None:
        while self._queue:
            batch: list[_Pending] = []
            size = 0
            while self._queue and (not batch or size + len(self._queue[0].docs) <= MAX_BATCH):
                batch.append(self._queue.pop(0))
                size += len(batch[-1].docs)
            await self._send(batch)

    async def _send(self, batch: list[_Pending]) -> None:
        docs = [d for p in batch for d in p.docs]
        refused: dict[int, dict[str, object]] = {}
        try:
            await self._collection.insert_many(docs, ordered=False)
        except BulkWriteError as exc:
            refused = {int(e["index"]): e for e in exc.details.get("writeErrors", [])}
        except Exception as exc:  # the whole command failed: every caller in it hears so
            for p in batch:
                if not p.done.done():
                    p.done.set_exception(exc)
            return
        start = 0
        for p in batch:
            mine = {i - start: refused[i] for i in range(start, start + len(p.docs)) if i in refused}
            start += len(p.docs)
            other = [e for e in mine.values() if e.get("code") != 11000]
            if p.done.done():
                continue
            if other:
                error = other[0]
                p.done.set_exception(WriteError(str(error.get("errmsg")), int(str(error.get("code"))), error))
            else:
                p.done.set_result(set(mine))


class GroupInserts:
    """One GroupInsert per collection of a database, made when first used."""

    def __init__(self) -> None:
        self._groups: dict[str, GroupInsert] = {}

    def of(self, collection: AsyncCollection[Document]) -> GroupInsert:
        group = self._groups.get(collection.name)
        if group is None:
            group = self._groups[collection.name] = GroupInsert(collection)
            if len(self._groups) > 1000:  # minute collections come and go: forget the oldest
                self._groups.pop(next(iter(self._groups)))
        return group

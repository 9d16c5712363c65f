"""Timers filed in one collection per due minute, so a scheduler tick reads the timers due and nothing else."""

# Why: on FerretDB 1.x (SQLite) only `_id` equality is pushed down to SQL (and served by an index only because the
# local stack adds one, deploy/local/ferretdb/idindex.go); any other filter reads the whole table, while an insert
# stays cheap. A collection per minute is the index: reading a minute reads only its timers, an empty minute is a
# collection that does not exist, and every write is an insert — a timer, its end (fired, cancelled or failed: the
# first one recorded counts), a retry. On MongoDB the same layout costs the same few documents. Used by every
# service's deadlines (transfer SLA, registry compliance): one mechanism.
#
# The kit's scheduler sees each timer as `{minute}|{timer_id}`, so firing, claims and retries find its minute.

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from xueji_kit.group_insert import GroupInserts
from xueji_kit.store import Document, insert_many_once, insert_once
from xueji_kit.timers import Timer, TimerStore, minute_of

PREFIX = "timers_m"


class MinuteTimerStore(TimerStore):
    """The kit's TimerStore interface (claims and progress unchanged) over per-minute collections."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        super().__init__(db)
        self._db = db
        self.grouped = GroupInserts()  # concurrent decisions' timers due in one minute: one insert

    def _in(self, minute: int) -> AsyncCollection[Document]:
        return self._db[f"{PREFIX}{minute}"]

    async def arm(self, timer: Timer) -> bool:
        """Arm once: re-arming the same timer id changes nothing."""
        return await insert_once(self._in(minute_of(timer.due_at)), _armed(timer))

    async def arm_many(self, timers: list[Timer]) -> None:
        """Arm each once, in one round trip per minute they fall due in."""
        by_minute: dict[int, list[Document]] = {}
        for timer in timers:
            by_minute.setdefault(minute_of(timer.due_at), []).append(_armed(timer))
        for minute, docs in by_minute.items():
            await insert_many_once(self._in(minute), docs)

    async def settle(self, *, cancelled: list[tuple[str, datetime]], armed: list[Timer]) -> None:
        """Cancel timers (id and due time) and arm others, in one round trip per minute they fall due in: a decision
        that closes a stage and opens the next ends two timers and arms two, in the same minutes more often than not.
        Each arm and each end is recorded once (a repeated one changes nothing)."""
        by_minute: dict[int, list[Document]] = {}
        for timer_id, due_at in cancelled:
            by_minute.setdefault(minute_of(due_at), []).append(_end_doc(timer_id, "cancelled"))
        for timer in armed:
            by_minute.setdefault(minute_of(timer.due_at), []).append(_armed(timer))
        grouped = self.grouped
        await asyncio.gather(
            *(grouped.of(self._in(minute)).insert_many_once(docs) for minute, docs in by_minute.items())
        )

    async def due_in_minute(self, minute: int) -> list[Document]:
        docs = [d async for d in self._in(minute).find({})]
        ends = {d["timer_id"]: d["state"] for d in docs if d.get("end")}
        retries: dict[str, Document] = {}
        for d in sorted((d for d in docs if d.get("retry")), key=lambda d: int(d["attempt"])):
            retries[d["timer_id"]] = d
        return [
            {**d, "_id": f"{minute}|{d['_id']}", "timer_id": d["_id"], "state": ends.get(d["_id"], "armed"),
             "attempt": retries.get(d["_id"], {}).get("attempt", 0),
             "not_before": retries.get(d["_id"], {}).get("not_before")}
            for d in docs if "kind" in d
        ]  # fmt: skip

    async def mark_fired(self, timer_id: str) -> None:
        await self._end(timer_id, "fired")

    async def mark_fired_many(self, timer_ids: list[str]) -> None:
        """One bulk insert of end records per minute; an end already recorded (cancelled first) stays."""
        by_minute: dict[int, list[Document]] = {}
        for timer_id in timer_ids:
            minute, plain = _split(timer_id)
            by_minute.setdefault(minute, []).append(_end_doc(plain, "fired"))
        for minute, docs in by_minute.items():
            await insert_many_once(self._in(minute), docs)

    async def cancel(self, timer_id: str) -> None:
        """`timer_id` as the scheduler names it, `{minute}|{id}`; the service uses `cancel_due`."""
        await self._end(timer_id, "cancelled")

    async def cancel_due(self, timer_id: str, due_at: datetime) -> None:
        """A cancelled timer never fires; cancelling one that fired already is harmless."""
        await self._end(f"{minute_of(due_at)}|{timer_id}", "cancelled")

    async def next_attempt(self, timer_id: str, attempt: int, not_before: datetime, failed: bool) -> None:
        minute, plain = _split(timer_id)
        retry = {"_id": f"retry:{plain}:{attempt + 1}", "retry": True, "timer_id": plain, "attempt": attempt + 1}
        await insert_once(self._in(minute), retry | {"not_before": not_before})
        if failed:
            await self._end(timer_id, "failed")

    async def earliest_armed_minute(self) -> int | None:
        minutes = await self._minutes()
        return min(minutes) if minutes else None

    async def armed(self) -> list[Document]:
        """Every timer still armed: a sweep over every minute, for administration and tests only."""
        found = []
        for minute in await self._minutes():
            found += [{**d, "_id": d["timer_id"]} for d in await self.due_in_minute(minute) if d["state"] == "armed"]
        return found

    async def armed_for(self, aggregate_id: str) -> list[Timer]:
        return [_timer(d) for d in await self.armed() if d["aggregate_id"] == aggregate_id]

    async def _minutes(self) -> list[int]:
        names = await self._db.list_collection_names()
        return sorted(int(n.removeprefix(PREFIX)) for n in names if n.startswith(PREFIX))

    async def _end(self, timer_id: str, state: str) -> None:
        minute, plain = _split(timer_id)
        await insert_once(self._in(minute), _end_doc(plain, state))


def _end_doc(plain: str, state: str) -> Document:
    return {"_id": f"end:{plain}", "end": True, "timer_id": plain, "state": state}


def plain_id(timer_id: str) -> str:
    """The service's own timer id from the scheduler's `{minute}|{timer_id}`."""
    return _split(timer_id)[1]


def _split(timer_id: str) -> tuple[int, str]:
    minute, _, plain = timer_id.partition("|")
    return int(minute), plain


def _timer(doc: dict[str, Any]) -> Timer:
    return Timer(doc["_id"], doc["kind"], doc["aggregate_id"], doc["due_at"], doc.get("data", {}))


def _armed(timer: Timer) -> Document:
    if timer.due_at.tzinfo is None:
        raise ValueError("due_at must be timezone-aware")
    return {"_id": timer.timer_id, "kind": timer.kind, "aggregate_id": timer.aggregate_id,
            "due_at": timer.due_at.astimezone(UTC), "data": timer.data}  # fmt: skip

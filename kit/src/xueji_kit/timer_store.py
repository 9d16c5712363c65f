"""Durable timers (SLA warnings, breaches, offline timeouts, paper-file and compliance deadlines, webhook retries).

Kafka has no long delayed delivery, so each armed deadline is a document in the service's store, filed in a
collection of its own due minute (`timers_m<minute>`). The scheduler reads due minutes one collection at a time —
work per tick is proportional to the timers due, not to the cases open — and fires a timer only after winning its
claim, an insert the unique `_id` index decides, so several replicas never fire one timer twice and a restart loses
none (it resumes from the last minute it finished).

Why a collection per minute: on FerretDB 1.x (SQLite) only `_id` equality is pushed down to SQL (and served by an
index only because the local stack adds one, deploy/local/ferretdb/idindex.go); any other filter reads the whole
table, while an insert stays cheap. The collection is the index: reading a minute reads only its timers, an empty
minute is a collection that does not exist, and every write is an insert — a timer, its end (fired, cancelled or
failed: the first one recorded counts), a retry. On MongoDB the same layout costs the same few documents. One store
for every service's timers: transfer SLA, registry compliance, dedupe review deadlines, notify webhook deliveries.

A timer armed past due (a deadline that ended before the commit that opened it, a late replica) is filed under its
own minute all the same, so it is cancelled, claimed and ended there like any other; but the scheduler may have
finished that minute. So arming it first writes a note into a minute the scheduler has not finished (the one
`LATE_MARGIN` from now), which reopens the due minute: the scheduler, reading the note's minute, fires the timer from
its own minute. The note carries the timer, so if the arming process died before filing it, the scheduler files it.

Many timers armed at once into one minute (a class's R02 deadlines), when the caller asks, are filed as packs
(`kit.packs.packs`): one document holding up to 1,000 of them as one BSON value, which the local store keeps as a
single field instead of converting each field of each timer (issue 19: two timers a student were a fifth of the
registry's store time in a bulk import).
Reading a minute unpacks them; a timer is the same whether filed alone or in a pack (its cancellation, claim, retries
and end are its own documents), and one filed twice (a redelivered batch packed otherwise) is read once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import structlog
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from xueji_kit.group_insert import GroupInserts
from xueji_kit.packs import packs, unpacked
from xueji_kit.store import Document, insert_many_once, insert_once, upsert_by_id
from xueji_kit.timer_documents import (
    MINUTE,
    Timer,
    _armed,
    _end_doc,
    _note,
    _retry_doc,
    _split,
    _timer,
    minute_of,
    plain_id,
)

log = structlog.get_logger("timers")
READ_BATCH = 1_000_000  # documents a minute's read asks for at once (the reply's 16 MB bound it first)
PREFIX = "timers_m"  # + the due minute: one collection per minute
# A timer due before the minute that holds `now + LATE_MARGIN` is armed with a note in that minute: a minute is
# finished only once it is over, so the note has that long to be written before the scheduler's last read of it.
LATE_MARGIN = timedelta(seconds=10)
PACK_FROM = 16  # timers armed at once into one minute from which they are filed as packs (kit.packs.packs)
FLAT = "timers"  # the earlier layout's one collection, moved and dropped by `TimerStore.upgrade`
FAILED = "timers_failed"  # a timer whose every attempt failed, by its id, until an operator fires it again


class TimerStore:
    """Armed timers filed in one collection per due minute (`timers_m<minute>`), their claims and each scheduler's
    progress. The scheduler sees each timer as `{minute}|{timer_id}` (`plain_id` gives the service's own id back), so
    firing, claims and retries find its minute without a lookup."""

    def __init__(self, db: AsyncDatabase[Document], *, clock: Callable[[], datetime] | None = None) -> None:
        self._db = db
        # What "past due" is judged by when arming: the wall clock, or the clock of the service arming (a test's).
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self.claims = db["timer_claims"]
        self.progress = db["timer_progress"]
        self.failed = db[FAILED]
        self.grouped = GroupInserts()  # concurrent decisions' timers due in one minute: one insert

    def _in(self, minute: int) -> AsyncCollection[Document]:
        return self._db[f"{PREFIX}{minute}"]

    async def upgrade(self) -> None:
        """Run once at start: timers still armed in the flat `timers` collection of the earlier layout (one document
        per timer, its state updated in place; notify's webhook deliveries used it) are filed under their minutes,
        a pending retry with them, and the flat collection is dropped. Safe to repeat or to run on two replicas at
        once: every move is an insert that a repeat leaves as it is."""
        if FLAT not in await self._db.list_collection_names():
            return
        flat = self._db[FLAT]
        try:
            async for doc in flat.find({"state": "armed"}):
                minute, plain = int(doc["minute"]), str(doc["_id"])
                await self.arm(_timer(doc))
                if attempt := int(doc.get("attempt") or 0):
                    await insert_once(self._in(minute), _retry_doc(plain, attempt, doc["not_before"]))
        except PyMongoError:
            if FLAT in await self._db.list_collection_names():
                raise
            return  # another replica finished the move and dropped the collection while this one read it
        log.info("timers_upgraded_from_flat_layout")
        await flat.drop()

    async def arm(self, timer: Timer) -> bool:
        """Arm once: re-arming the same timer id (a redelivery) changes nothing."""
        await self._reopen([timer])
        return await insert_once(self._in(minute_of(timer.due_at)), _armed(timer))

    async def arm_many(self, timers: list[Timer], *, packed: bool = False) -> None:
        """Arm each once, in one round trip per minute they fall due in. `packed`: 16 or more in one minute are filed
        as packs, which a scheduler of a version before them does not read; only a caller whose scheduler keeps its
        progress apart from such a version's (`TimerScheduler(formerly=...)` under a new name) asks for it."""
        await self._reopen(timers)
        by_minute: dict[int, list[Document]] = {}
        for timer in timers:
            by_minute.setdefault(minute_of(timer.due_at), []).append(_armed(timer))
        for minute, docs in by_minute.items():
            await insert_many_once(self._in(minute), packs(docs) if packed and len(docs) >= PACK_FROM else docs)

    async def _reopen(self, timers: list[Timer]) -> None:
        """Before timers armed past due are filed: a note for each in a minute the scheduler has not finished, which
        reopens its due minute (one round trip, only when some are past due). Written first, so that a timer filed
        is never one no scheduler will read; a note whose timer is missing, the scheduler files from the note."""
        into = minute_of(self.clock() + LATE_MARGIN)
        notes = [_note(timer) for timer in timers if minute_of(timer.due_at) < into]
        if notes:
            await self.grouped.of(self._in(into)).insert_many_once(notes)

    async def file(self, minute: int, timers: list[Document]) -> None:
        """File timers (as their notes carry them) under their minute; one already filed stays as it is."""
        await insert_many_once(self._in(minute), timers)

    async def settle(self, *, cancelled: list[tuple[str, datetime]], armed: list[Timer]) -> None:
        """Cancel timers (id and due time) and arm others, in one round trip per minute they fall due in: a decision
        that closes a stage and opens the next ends two timers and arms two, in the same minutes more often than not.
        Each arm and each end is recorded once (a repeated one changes nothing)."""
        await self._reopen(armed)
        by_minute: dict[int, list[Document]] = {}
        for timer_id, due_at in cancelled:
            by_minute.setdefault(minute_of(due_at), []).append(_end_doc(timer_id, "cancelled"))
        for timer in armed:
            by_minute.setdefault(minute_of(timer.due_at), []).append(_armed(timer))
        grouped = self.grouped
        await asyncio.gather(
            *(grouped.of(self._in(minute)).insert_many_once(docs) for minute, docs in by_minute.items())
        )

    async def cancel_due(self, timer_id: str, due_at: datetime) -> None:
        """A cancelled timer never fires; cancelling one that fired already is harmless."""
        await self._end(f"{minute_of(due_at)}|{timer_id}", "cancelled")

    async def due_in_minute(self, minute: int) -> list[Document]:
        """The minute's timers as the scheduler sees them: `_id` `{minute}|{timer_id}`, state (armed until its first
        end record), attempt and not-before of its latest retry; and the notes of timers armed past due in this
        minute, state `reopens`, with the due `minute` and the `timer` as filed there. One read of one collection."""
        # In one reply (up to the 16 MB a reply holds): the local store keeps a cursor on the connection that opened
        # it, and with reads running beside the loop a `getMore` could go out on another one (CursorNotFound).
        docs = unpacked([d async for d in self._in(minute).find({}, batch_size=READ_BATCH)])
        ends = {d["timer_id"]: d["state"] for d in docs if d.get("end")}
        retries: dict[str, Document] = {}
        for d in sorted((d for d in docs if d.get("retry")), key=lambda d: int(d["attempt"])):
            retries[d["timer_id"]] = d
        notes = [{"_id": f"{minute}|{d['_id']}", "state": "reopens", "minute": d["reopens"], "timer": d["timer"]}
                 for d in docs if "reopens" in d]  # fmt: skip
        return [
            {**d, "_id": f"{minute}|{d['_id']}", "timer_id": d["_id"], "state": ends.get(d["_id"], "armed"),
             "attempt": retries.get(d["_id"], {}).get("attempt", 0),
             "not_before": retries.get(d["_id"], {}).get("not_before")}
            for d in docs if "kind" in d
        ] + notes  # fmt: skip

    async def claim_many(self, attempts: list[tuple[str, int]]) -> set[str]:
        """Claim many timers' attempts in one round trip (an unordered bulk insert): the timer ids won."""
        if not attempts:
            return set()
        now = datetime.now(UTC)
        docs = [{"_id": f"{timer_id}:{attempt}", "claimed_at": now} for timer_id, attempt in attempts]
        lost = await insert_many_once(self.claims, docs)
        return {timer_id for i, (timer_id, _) in enumerate(attempts) if i not in lost}

    async def claimed_at(self, timer_id: str, attempt: int) -> datetime | None:
        doc = await self.claims.find_one({"_id": f"{timer_id}:{attempt}"})
        return doc["claimed_at"] if doc else None

    async def mark_fired_many(self, timer_ids: list[str]) -> None:
        """One bulk insert of end records per minute; an end already recorded (cancelled first) stays."""
        by_minute: dict[int, list[Document]] = {}
        for timer_id in timer_ids:
            minute, plain = _split(timer_id)
            by_minute.setdefault(minute, []).append(_end_doc(plain, "fired"))
        for minute, docs in by_minute.items():
            await insert_many_once(self._in(minute), docs)

    async def next_attempt(self, timer_id: str, attempt: int, not_before: datetime, failed: bool) -> None:
        minute, plain = _split(timer_id)
        await insert_once(self._in(minute), _retry_doc(plain, attempt + 1, not_before))
        if failed:
            await self._end(timer_id, "failed")

    async def park(self, timer: Timer, error: BaseException, attempts: int) -> None:
        """Keep a timer whose every attempt failed, so an operator can see it and fire it again (`refire`): ended
        "failed" in its minute, it would otherwise be a deadline warning or breach nobody ever sends."""
        fields = {
            "kind": timer.kind, "aggregate_id": timer.aggregate_id, "due_at": timer.due_at, "data": timer.data,
            "attempts": attempts, "error_type": type(error).__name__, "error": str(error)[:2000],
            "failed_at": self.clock(),
        }  # fmt: skip
        await upsert_by_id(self.failed, plain_id(timer.timer_id), {"$set": fields})

    async def parked(self) -> list[Document]:
        """Every parked timer: an operator's read of a collection that is empty when all is well."""
        return [doc async for doc in self.failed.find({})]

    async def refire(self, ids: list[str] | None = None) -> list[str]:
        """Arm the parked timers (all, or these) again, due now, under their own ids in the current minute: the
        scheduler fires them as it fires any timer past due; each leaves the parking once armed."""
        chosen = [d for d in await self.parked() if ids is None or d["_id"] in ids]
        now = self.clock()
        for doc in chosen:
            due = now
            # A minute holds a timer id once: where the timer was armed and ended already (it failed within the
            # minute it is refired in), it is armed at the start of the next minute, which holds nothing of it.
            while not await self.arm(Timer(doc["_id"], doc["kind"], doc["aggregate_id"], due, doc.get("data") or {})):
                if await self._in(minute_of(due)).find_one({"_id": _end_doc(doc["_id"], "")["_id"]}) is None:
                    break  # armed there and not ended (another refire's): it fires there
                due = datetime.fromtimestamp((minute_of(due) + 1) * MINUTE, UTC)
            await self.failed.delete_one({"_id": doc["_id"]})
        return [str(d["_id"]) for d in chosen]

    async def earliest_armed_minute(self) -> int | None:
        """Read once, at a scheduler's first start: the earliest minute with a collection."""
        minutes = await self._minutes()
        return min(minutes) if minutes else None

    async def filed_minutes(self) -> list[int]:
        """Every minute that has a collection (timers filed, fired or not), in order: one listing."""
        return await self._minutes()

    async def last_finished_minute(self, scheduler: str) -> int | None:
        doc = await self.progress.find_one({"_id": scheduler})
        return int(doc["minute"]) if doc else None

    async def finish_minute(self, scheduler: str, minute: int) -> None:
        """Replicas of a service share their scheduler's name, so two may create its progress document at once (each
        stores it at its first tick): the loser of that race, refused with a duplicate key, sets it as an update."""
        await upsert_by_id(self.progress, scheduler, {"$set": {"minute": minute}})

    async def armed(self) -> list[Document]:
        """Every timer still armed: a sweep over every minute, for administration and tests only."""
        found = []
        for minute in await self._minutes():
            found += [{**d, "_id": d["timer_id"]} for d in await self.due_in_minute(minute) if d["state"] == "armed"]
        return found

    async def states(self, timers: list[tuple[str, datetime]]) -> dict[str, str | None]:
        """Each timer's state (armed, or its end: fired, cancelled, failed; None: never filed), by its id and due
        time: one read per minute they fall due in. For consistency checks and tests."""
        minutes: dict[int, dict[str, str]] = {}
        found: dict[str, str | None] = {}
        for timer_id, due_at in timers:
            minute = minute_of(due_at)
            if minute not in minutes:
                docs = await self.due_in_minute(minute)
                minutes[minute] = {d["timer_id"]: d["state"] for d in docs if "timer_id" in d}
            found[timer_id] = minutes[minute].get(timer_id)
        return found

    async def armed_for(self, aggregate_id: str) -> list[Timer]:
        """An aggregate's armed timers, by a sweep (`armed`): administration and tests only."""
        return [_timer(d) for d in await self.armed() if d["aggregate_id"] == aggregate_id]

    async def _minutes(self) -> list[int]:
        names = await self._db.list_collection_names()
        return sorted(int(n.removeprefix(PREFIX)) for n in names if n.startswith(PREFIX))

    async def _end(self, timer_id: str, state: str) -> None:
        minute, plain = _split(timer_id)
        await insert_once(self._in(minute), _end_doc(plain, state))

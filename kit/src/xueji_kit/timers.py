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
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from xueji_kit.background import keep_running
from xueji_kit.group_insert import GroupInserts
from xueji_kit.metrics import TIMER_FIRING_DELAY, TIMERS_FAILED, TIMERS_FIRED
from xueji_kit.packs import packs, unpacked
from xueji_kit.store import Document, insert_many_once, insert_once, upsert_by_id

log = structlog.get_logger("timers")
MINUTE = 60
MAX_ATTEMPTS = 10
STALE_CLAIM = timedelta(seconds=60)
READ_BATCH = 1_000_000  # documents a minute's read asks for at once (the reply's 16 MB bound it first)
PREFIX = "timers_m"  # + the due minute: one collection per minute
# A timer due before the minute that holds `now + LATE_MARGIN` is armed with a note in that minute: a minute is
# finished only once it is over, so the note has that long to be written before the scheduler's last read of it.
LATE_MARGIN = timedelta(seconds=10)
PACK_FROM = 16  # timers armed at once into one minute from which they are filed as packs (kit.packs.packs)
FLAT = "timers"  # the earlier layout's one collection, moved and dropped by `TimerStore.upgrade`
FAILED = "timers_failed"  # a timer whose every attempt failed, by its id, until an operator fires it again


# The `now` of the tick running in this task: a tick driven with a chosen time (tests, a catch-up after an outage)
# fires its timers at that time, while a wall-clock loop in another task keeps its own.
_TICK_NOW: ContextVar[datetime | None] = ContextVar("timer_tick_now", default=None)


def tick_time() -> datetime:
    """When the timer being fired is being fired: the running tick's `now`, else the wall clock."""
    return _TICK_NOW.get() or datetime.now(UTC)


def minute_of(at: datetime) -> int:
    return int(at.timestamp()) // MINUTE


@dataclass(frozen=True)
class Timer:
    timer_id: str
    kind: str
    aggregate_id: str
    due_at: datetime
    data: dict[str, Any]


Fire = Callable[[Timer], Awaitable[None]]


@dataclass(frozen=True)
class _Read:
    """A minute's documents as one read found them: when it started (monotonic, and on the wall clock)."""

    at: float
    started: datetime
    docs: list[Document]


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
            await self.arm(Timer(doc["_id"], doc["kind"], doc["aggregate_id"], now, doc.get("data") or {}))
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


def plain_id(timer_id: str) -> str:
    """The service's own timer id from the scheduler's `{minute}|{timer_id}`."""
    return _split(timer_id)[1]


def _split(timer_id: str) -> tuple[int, str]:
    minute, _, plain = timer_id.partition("|")
    return int(minute), plain


def _timer(doc: Document) -> Timer:
    return Timer(doc["_id"], doc["kind"], doc["aggregate_id"], doc["due_at"], doc.get("data", {}))


def _armed(timer: Timer) -> Document:
    if timer.due_at.tzinfo is None:
        raise ValueError("due_at must be timezone-aware")
    return {"_id": timer.timer_id, "kind": timer.kind, "aggregate_id": timer.aggregate_id,
            "due_at": timer.due_at.astimezone(UTC), "data": timer.data}  # fmt: skip


def _note(timer: Timer) -> Document:
    """The note that reopens a past minute for a timer armed after it: which minute, and the timer as filed there."""
    due_minute = minute_of(timer.due_at)
    return {"_id": f"late:{due_minute}|{timer.timer_id}", "reopens": due_minute, "timer": _armed(timer)}


def _end_doc(plain: str, state: str) -> Document:
    return {"_id": f"end:{plain}", "end": True, "timer_id": plain, "state": state}


def _retry_doc(plain: str, attempt: int, not_before: datetime) -> Document:
    return {"_id": f"retry:{plain}:{attempt}", "retry": True, "timer_id": plain, "attempt": attempt,
            "not_before": not_before}  # fmt: skip


class TimerScheduler:
    """Fires due timers minute by minute. `fire` must be idempotent (it may rerun after a crash
    between firing and marking), which the event store's derived commit ids make it."""

    def __init__(
        self,
        store: TimerStore,
        fire: Fire,
        *,
        name: str = "scheduler",
        formerly: str | None = None,
        lookback_minutes: int = 60 * 24,
        concurrency: int = 16,
        ahead_seconds: float = 15.0,
        refresh_seconds: float = 2.0,
        stale_claim: timedelta = STALE_CLAIM,
    ):
        self._store = store
        self._stale_claim = stale_claim  # longer than one firing may take, or a slow one is fired twice
        self._concurrency = concurrency
        self._fire = fire
        self._name = name
        # The name an earlier version kept this scheduler's progress under: with none of its own yet, it resumes from
        # there (an upgrade that renames it loses nothing that fell due while it was down).
        self._formerly = formerly
        self._lookback = lookback_minutes
        self._ahead = ahead_seconds
        self._refresh = refresh_seconds
        # The wall-clock loop reads the coming minute before it starts and re-reads the current one every
        # `refresh_seconds`, so a burst of timers due at one instant (every deadline of a day ends at 24:00) is
        # claimed and fired at that instant instead of after a read of the whole minute. Those reads run beside the
        # loop, which fires from what was read meanwhile: a minute of 10,000 timers took the store 1-6 s to read on
        # a busy machine, and a loop waiting for it fired seconds late (issue 19: p99 7.3 s at 1,000,000 armed).
        # The coming minute is read `ahead_seconds` before it starts, early enough for such a read to be in; a
        # timer armed into it after that read is found by the first refresh once the minute has begun.
        self._cache: dict[int, _Read] = {}
        self._reading: dict[int, asyncio.Task[None]] = {}
        self._settled: dict[int, set[str]] = {}  # timer ids this replica claimed, by minute
        # Attempts another replica claimed, by minute: timer id -> (attempt, when it was claimed), read once. Such a
        # timer costs no store command until its claim could be stale (it is taken over then, if still armed).
        self._held: dict[int, dict[str, tuple[int, datetime]]] = {}
        self._reopened: dict[int, set[int]] = {}  # the past minutes each minute's notes reopened
        self._noted: dict[int, set[str]] = {}  # the notes of each minute whose timers are settled

    async def tick(self, now: datetime, *, cached: bool = False) -> int:
        """Fire everything due up to `now`; returns how many timers this replica fired. A driven tick (tests, a
        catch-up) reads every minute afresh; the wall-clock loop passes `cached` to use what it read ahead."""
        token = _TICK_NOW.set(now)
        try:
            return await self._tick(now, cached)
        finally:
            _TICK_NOW.reset(token)

    async def _tick(self, now: datetime, cached: bool) -> int:
        current = minute_of(now)
        last = own = await self._store.last_finished_minute(self._name)
        if last is None and self._formerly is not None:
            last = await self._store.last_finished_minute(self._formerly)
        resumed = last is not None
        if last is None:
            # First start: begin at the earliest timer still armed, not a full lookback of empty minutes.
            earliest = await self._store.earliest_armed_minute()
            last = (current if earliest is None else min(earliest, current)) - 1
        if own is None:
            # From its first tick on, a scheduler reads its own progress only: stored now, not once it finishes a
            # minute. Had it gone on reading the former name's (`formerly`), a scheduler of an earlier version still
            # running beside it (a rolling upgrade, a rollback) would have moved it past minutes whose packed timers
            # that one cannot read, and they would never fire.
            await self._store.finish_minute(self._name, last)
        window = current - self._lookback  # the minutes read one by one; older ones only where timers were filed
        minutes = list(range(max(window, last + 1), current + 1))
        if resumed and last + 1 < window:
            # Down longer than the lookback (a long outage): what fell due after its last finished minute and before
            # the window still fires, read only from the minutes that hold timers (one listing, not a read per empty
            # minute). A first start keeps to the window: a timer armed past due is reached through its note, which
            # is in a minute of the window.
            minutes = [m for m in await self._store.filed_minutes() if last < m < window] + minutes
        # The current minute first: its timers are due now; a past minute only needs its final look.
        settled: dict[int, bool] = {}
        fired = 0
        for minute in [current, *minutes[:-1]] if minutes else []:
            count, settled[minute] = await self._fire_minute(minute, now, cached, set(minutes))
            fired += count
        finished = True
        for minute in minutes:
            # A minute is finished once every timer in it is settled and it is in the past (read after it ended);
            # an unsettled one (in flight elsewhere, or retrying) is looked at again next tick.
            finished = finished and settled[minute] and minute < current
            if finished:
                await self._store.finish_minute(self._name, minute)
                self._forget(minute)
        return fired

    async def step(self, interval: float) -> float:
        """One turn of the wall-clock loop: tick, start reading the coming minute if it starts within
        `ahead_seconds`, and return how long to sleep — until the next timer known to fall due, at most `interval`."""
        now = datetime.now(UTC)
        await self.tick(now, cached=True)
        coming = minute_of(now) + 1
        if coming * MINUTE - now.timestamp() <= self._ahead and coming not in self._cache:
            self._read_beside(coming)
        now = datetime.now(UTC)
        upcoming = [
            d["due_at"]
            for minute in (coming - 1, coming)
            if (read := self._cache.get(minute)) is not None
            for d in read.docs
            if d["state"] == "armed" and d["due_at"] > now and d["_id"] not in self._settled.get(minute, ())
        ]
        wait = (min(upcoming) - now).total_seconds() if upcoming else interval
        return min(max(wait, 0.005), interval)

    async def _docs(self, minute: int, now: datetime, cached: bool) -> tuple[list[Document], bool]:
        """The minute's timers, and whether they were read after the minute ended (only such a read may settle
        it). Cached: what was read last, a newer read started beside the loop once that one is `refresh_seconds`
        old (or was made before a minute now past ended); the loop waits only for a minute's first read."""
        ended = datetime.fromtimestamp((minute + 1) * MINUTE, UTC)
        if not cached:
            return await self._store.due_in_minute(minute), now >= ended
        read = self._cache.get(minute)
        if read is None:
            await asyncio.wait([self._read_beside(minute)])  # (its failure is not raised here, nor its end)
            read = self._cache.get(minute)
            if read is None:  # that read failed: read here, so the error is the tick's
                read = _Read(time.monotonic(), datetime.now(UTC), await self._store.due_in_minute(minute))
                self._cache[minute] = read
        elif time.monotonic() - read.at >= self._refresh or (now >= ended and read.started < ended):
            self._read_beside(minute)
        return read.docs, read.started >= ended

    def _read_beside(self, minute: int) -> asyncio.Task[None]:
        """Read the minute beside the loop (once at a time); the cache takes the result when it is in."""
        task = self._reading.get(minute)
        if task is None or task.done():
            task = self._reading[minute] = asyncio.create_task(self._read(minute), name=f"timers.read.{minute}")
        return task

    async def _read(self, minute: int) -> None:
        started, at = datetime.now(UTC), time.monotonic()
        try:
            docs = await self._store.due_in_minute(minute)
        except Exception as exc:  # the next tick reads it again
            log.warning("timer_minute_not_read", minute=minute, error=str(exc) or type(exc).__name__)
            return
        finally:
            self._reading.pop(minute, None)
        self._cache[minute] = _Read(at, started, docs)

    def _unread(self, minute: int) -> None:
        """Drop what was read of the minute (and a read under way, made too early): the next tick reads it anew."""
        self._cache.pop(minute, None)
        if (task := self._reading.pop(minute, None)) is not None:
            task.cancel()

    def _forget(self, minute: int) -> None:
        """A finished minute: nothing of it is kept or read any more."""
        self._unread(minute)
        self._settled.pop(minute, None)
        self._held.pop(minute, None)
        self._noted.pop(minute, None)
        for reopened in self._reopened.pop(minute, set()):
            self._forget(reopened)

    async def _fire_minute(
        self, minute: int, now: datetime, cached: bool = False, in_view: set[int] | None = None
    ) -> tuple[int, bool]:
        """Fire the minute's due timers, then those armed past due that its notes name (in their own minutes, unless
        this tick reads those anyway: `in_view`, which finish first); returns how many fired and whether every timer
        of the minute, and every one its notes name, is settled."""
        docs, read_after_the_end = await self._docs(minute, now, cached)
        fired, settled = await self._fire_due(minute, docs, now, cached)
        in_view = in_view or set()
        noted = self._noted.setdefault(minute, set())
        if not cached:
            noted.clear()  # read afresh: the timers' own minutes say what is settled
        notes = [d for d in docs if d["state"] == "reopens" and d["_id"] not in noted and d["minute"] not in in_view]
        for due_minute in sorted({int(d["minute"]) for d in notes}):
            of_minute = [d for d in notes if d["minute"] == due_minute]
            self._reopened.setdefault(minute, set()).add(due_minute)
            count, done = await self._fire_reopened(due_minute, [d["timer"] for d in of_minute], now, cached)
            fired, settled = fired + count, settled and done
            if done:
                noted.update(d["_id"] for d in of_minute)
        return fired, settled and read_after_the_end

    async def _fire_reopened(
        self, minute: int, timers: list[Document], now: datetime, cached: bool
    ) -> tuple[int, bool]:
        """Fire the timers armed past due in `minute` (a minute already over, perhaps finished): from their own
        minute, so their cancellation, claim, retries and end are those of any timer of it. A timer not filed there
        (its arming process died after the note) is filed from the note and fired from the next read."""
        docs, _ = await self._docs(minute, now, cached)
        named = {f"{minute}|{t['_id']}" for t in timers}
        found = {d["_id"] for d in docs if "kind" in d} & named
        if missing := [t for t in timers if f"{minute}|{t['_id']}" not in found]:
            log.warning("timer_armed_past_due_filed_from_its_note", minute=minute, timers=len(missing))
            await self._store.file(minute, missing)
            self._unread(minute)
        fired, settled = await self._fire_due(minute, [d for d in docs if d["_id"] in found], now, cached)
        return fired, settled and not missing

    async def _fire_due(self, minute: int, docs: list[Document], now: datetime, cached: bool) -> tuple[int, bool]:
        """Fire the due ones of a minute's timers: one bulk claim for all of them, then each won timer fired on its
        own (up to `concurrency` at a time), then one bulk mark for those fired; returns how many fired and whether
        every one is settled. Three round trips per tick however many fall due, not three per timer."""
        mine = self._settled.setdefault(minute, set())
        armed = [doc for doc in docs if doc["state"] == "armed"]
        if not cached:
            mine.clear()  # read afresh: the store's own end records say what is settled
        armed = [doc for doc in armed if doc["_id"] not in mine]
        due = [d for d in armed if d["due_at"] <= now and not (d.get("not_before") and d["not_before"] > now)]
        if not due:
            return 0, not armed
        attempts = {d["_id"]: int(d.get("attempt") or 0) for d in due}
        held = self._held.setdefault(minute, {})
        elsewhere = {t: held[t][1] for t, attempt in attempts.items() if held.get(t, (-1,))[0] == attempt}
        won = await self._store.claim_many([(t, a) for t, a in attempts.items() if t not in elsewhere])
        # Only what this replica won is settled here: an attempt claimed elsewhere (another replica, or one that died
        # holding it) stays in view, so it is taken over once stale and the minute is not finished without it. Its
        # claim's time is read once (an `_id` lookup) and kept, so it is not claimed or read again meanwhile.
        mine.update(won)
        for timer_id in attempts.keys() - won - elsewhere.keys():
            if (claimed := await self._store.claimed_at(timer_id, attempts[timer_id])) is not None:
                held[timer_id] = attempts[timer_id], claimed
                elsewhere[timer_id] = claimed
        stale = [t for t, claimed in elsewhere.items() if now - claimed > self._stale_claim]
        for timer_id in stale:
            log.warning("timer_claim_stale_retrying", timer_id=timer_id, attempt=attempts[timer_id])
            await self._store.next_attempt(timer_id, attempts[timer_id], now, failed=False)
            del held[timer_id]
        if stale:
            self._unread(minute)  # the new attempt's retry record is read next tick
        gate = asyncio.Semaphore(self._concurrency)

        async def one(doc: Document) -> Timer | None:
            async with gate:
                return await self._fire_one(doc, attempts[doc["_id"]], now)

        fired = [t for t in await asyncio.gather(*(one(d) for d in due if d["_id"] in won)) if t is not None]
        await self._store.mark_fired_many([t.timer_id for t in fired])
        if len(fired) < len(won):
            mine.difference_update(won - {t.timer_id for t in fired})
            self._unread(minute)  # a failed one has a retry record to read
        for timer in fired:
            TIMERS_FIRED.labels(timer.kind).inc()
            TIMER_FIRING_DELAY.observe(max(0.0, (now - timer.due_at).total_seconds()))
        return len(fired), not armed

    async def _fire_one(self, doc: Document, attempt: int, now: datetime) -> Timer | None:
        """Fire one claimed timer; a failure schedules its next attempt (with backoff) and returns None."""
        timer = _timer(doc)
        try:
            await self._fire(timer)
        except Exception as exc:
            failed = attempt + 1 >= MAX_ATTEMPTS
            log.exception(
                "timer_fire_failed", timer_id=timer.timer_id, kind=timer.kind, attempt=attempt, gave_up=failed
            )
            if failed:  # parked before it is ended, so a stop in between leaves it armed rather than lost
                await self._store.park(timer, exc, attempt + 1)
                TIMERS_FAILED.labels(timer.kind).inc()
            await self._store.next_attempt(
                timer.timer_id, attempt, now + timedelta(seconds=min(2**attempt, 300)), failed
            )
            return None
        return timer

    async def run_forever(self, interval: timedelta = timedelta(seconds=1)) -> None:
        wait = interval.total_seconds()

        async def turn() -> None:  # sleeps until the next timer known to fall due, at most `interval`
            nonlocal wait
            wait = interval.total_seconds()  # and `interval` after a failed turn
            wait = await self.step(wait)

        await keep_running(turn, every=lambda: wait, log=log, failed="scheduler_tick_failed")

"""The timer scheduler: fires due timers minute by minute from the timer store (`timer_store`), once across replicas;
the wall-clock loop, the reads beside it and each scheduler's progress."""

from __future__ import annotations

import asyncio
import time
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import structlog

from xueji_kit.background import keep_running
from xueji_kit.metrics import TIMER_FIRING_DELAY, TIMERS_FAILED, TIMERS_FIRED
from xueji_kit.store import Document
from xueji_kit.timer_documents import MINUTE, Fire, Timer, _timer, minute_of
from xueji_kit.timer_store import TimerStore

log = structlog.get_logger("timers")
MAX_ATTEMPTS = 10
STALE_CLAIM = timedelta(seconds=60)


# The `now` of the tick running in this task: a tick driven with a chosen time (tests, a catch-up after an outage)
# fires its timers at that time, while a wall-clock loop in another task keeps its own.
_TICK_NOW: ContextVar[datetime | None] = ContextVar("timer_tick_now", default=None)


def tick_time() -> datetime:
    """When the timer being fired is being fired: the running tick's `now`, else the wall clock."""
    return _TICK_NOW.get() or datetime.now(UTC)


@dataclass(frozen=True)
class _Read:
    """A minute's documents as one read found them: when it started (monotonic, and on the wall clock)."""

    at: float
    started: datetime
    docs: list[Document]


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

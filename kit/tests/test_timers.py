"""Durable timers on the real store (R22): filed by due minute, fire once, survive restarts, never double-fire across
replicas; timers armed under the earlier flat layout still fire after the upgrade."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from xueji_kit.store import connect
from xueji_kit.store_commands import counting, install, scope, tally
from xueji_kit.timers import FLAT, LATE_MARGIN, Timer, TimerScheduler, TimerStore, minute_of, plain_id

pytestmark = pytest.mark.integration
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
DUE = datetime(2025, 3, 24, 16, 0, tzinfo=UTC)  # 24:00 in Shanghai: where deadlines pile up


@pytest.fixture
async def timer_store(database):
    store = TimerStore(database)
    await store.upgrade()
    return store


def _timer(n: int, due: datetime, kind: str = "breach") -> Timer:
    return Timer(f"case-{n}:{kind}", kind, f"case-{n}", due, {"n": n})


class Fired(list[str]):
    """A `fire` that records the service's own timer ids (optionally failing its first call)."""

    def __init__(self, fail_first: bool = False) -> None:
        super().__init__()
        self.calls, self._fail_first = 0, fail_first

    async def __call__(self, timer: Timer) -> None:
        self.calls += 1
        if self._fail_first and self.calls == 1:
            raise RuntimeError("broker away")
        await asyncio.sleep(0.001)
        self.append(plain_id(timer.timer_id))


async def test_r22_timer_fires_once_when_due_and_not_before(timer_store):
    fired = Fired()
    await timer_store.arm(_timer(1, T0 + timedelta(minutes=5)))
    assert not await timer_store.arm(_timer(1, T0 + timedelta(minutes=5))), "re-arming is a no-op"
    scheduler = TimerScheduler(timer_store, fired, lookback_minutes=30)
    assert await scheduler.tick(T0) == 0
    assert await scheduler.tick(T0 + timedelta(minutes=5, seconds=1)) == 1
    assert await scheduler.tick(T0 + timedelta(minutes=6)) == 0
    assert fired == ["case-1:breach"]


async def test_r22_a_minute_holds_only_its_timers_and_an_empty_minute_is_no_collection(timer_store):
    await asyncio.gather(*(timer_store.arm(_timer(n, DUE)) for n in range(30)))
    await timer_store.arm(_timer(99, DUE + timedelta(days=1)))
    due = await timer_store.due_in_minute(minute_of(DUE))
    assert sorted(plain_id(d["_id"]) for d in due) == sorted(f"case-{n}:breach" for n in range(30))
    assert await timer_store.due_in_minute(minute_of(DUE) + 1) == []
    assert await timer_store.earliest_armed_minute() == minute_of(DUE)


async def test_r22_restart_loses_nothing_due_while_down(timer_store):
    fired = Fired()
    await TimerScheduler(timer_store, fired, lookback_minutes=120).tick(T0)
    for n in range(5):
        await timer_store.arm(_timer(n, T0 + timedelta(minutes=10 + n)))
    # The scheduler was down for an hour; a new one resumes from the stored progress.
    assert await TimerScheduler(timer_store, fired, lookback_minutes=120).tick(T0 + timedelta(hours=1)) == 5
    assert sorted(fired) == [f"case-{n}:breach" for n in range(5)]


async def test_r22_a_scheduler_down_longer_than_its_lookback_still_fires_what_fell_due(timer_store):
    fired = Fired()
    running = TimerScheduler(timer_store, fired, lookback_minutes=30)
    await timer_store.arm(_timer(0, T0))
    assert await running.tick(T0) == 1
    await running.tick(T0 + timedelta(minutes=1))  # its minute T0 finished: the progress a restart resumes from
    await timer_store.arm(_timer(1, T0 + timedelta(minutes=10)))  # due while the scheduler was down
    await timer_store.arm(_timer(2, T0 + timedelta(hours=3, minutes=5)))  # due inside the window on its return
    await timer_store.arm(_timer(3, T0 + timedelta(hours=5)))  # not due yet
    restarted = TimerScheduler(timer_store, fired, lookback_minutes=30)
    assert await restarted.tick(T0 + timedelta(hours=3, minutes=20)) == 2
    assert sorted(fired) == ["case-0:breach", "case-1:breach", "case-2:breach"]
    assert await restarted.tick(T0 + timedelta(hours=3, minutes=21)) == 0, "and only once"


async def test_r22_replicas_fire_each_timer_once_and_a_cancelled_one_never(timer_store):
    fired = Fired()
    for n in range(30):
        await timer_store.arm(_timer(n, T0 + timedelta(seconds=n)))
    await timer_store.cancel_due("case-2:breach", T0 + timedelta(seconds=2))
    assert len(await timer_store.armed()) == 29
    replicas = [TimerScheduler(timer_store, fired, name=f"replica-{i}", lookback_minutes=30) for i in range(3)]
    counts = await asyncio.gather(*(r.tick(T0 + timedelta(minutes=2)) for r in replicas))
    assert sum(counts) == 29 and sorted(fired) == sorted(f"case-{n}:breach" for n in range(30) if n != 2)
    assert await replicas[0].tick(T0 + timedelta(minutes=3)) == 0
    assert await timer_store.armed() == []


async def test_r22_failing_fire_is_retried_after_its_backoff_then_succeeds(timer_store):
    fired = Fired(fail_first=True)
    await timer_store.arm(_timer(7, T0))
    scheduler = TimerScheduler(timer_store, fired, lookback_minutes=30)
    assert await scheduler.tick(T0 + timedelta(seconds=10)) == 0
    assert await scheduler.tick(T0 + timedelta(seconds=10)) == 0, "waits for its backoff"
    assert await scheduler.tick(T0 + timedelta(seconds=20)) == 1
    assert fired.calls == 2


def _flat(n: int, due: datetime, state: str = "armed", **retry: object) -> dict[str, object]:
    """A timer as the earlier flat layout stored it: one document, its state and retries updated in place."""
    timer = _timer(n, due)
    doc = {"_id": timer.timer_id, "kind": timer.kind, "aggregate_id": timer.aggregate_id, "due_at": due,
           "minute": minute_of(due), "data": timer.data, "state": state}  # fmt: skip
    return doc | retry


async def test_r22_timers_armed_in_the_flat_layout_fire_after_the_upgrade_and_ended_ones_do_not(database):
    flat = database[FLAT]
    await flat.create_index("minute", name="by_due_minute")
    await flat.insert_many([
        _flat(1, T0 + timedelta(minutes=5)),
        _flat(2, T0 + timedelta(minutes=1), "fired"),
        _flat(3, T0 + timedelta(minutes=1), "cancelled"),
        _flat(4, T0, attempt=2, not_before=T0 + timedelta(minutes=3)),  # failed twice, waiting for its backoff
    ])  # fmt: skip
    store = TimerStore(database)
    await asyncio.gather(store.upgrade(), TimerStore(database).upgrade())  # two replicas starting at once
    await store.upgrade()  # and a later start: nothing left to move
    assert FLAT not in await database.list_collection_names(), "no unused collection stays"
    fired = Fired()
    scheduler = TimerScheduler(store, fired, lookback_minutes=30)
    assert await scheduler.tick(T0 + timedelta(minutes=2)) == 0, "the retried one waits for its backoff"
    assert await scheduler.tick(T0 + timedelta(minutes=6)) == 2
    assert sorted(fired) == ["case-1:breach", "case-4:breach"]
    assert await scheduler.tick(T0 + timedelta(minutes=7)) == 0


async def test_r22_wall_clock_loop_reads_the_coming_minute_ahead_and_fires_a_burst_once_never_early(timer_store):
    """run_forever's turn (`step`): the minute is read before it starts, every timer of a burst due at one instant
    fires once and not before its time, one armed after the read-ahead still fires, a cancelled one never does."""
    fired: dict[str, datetime] = {}

    async def fire(timer: Timer) -> None:
        assert plain_id(timer.timer_id) not in fired, "fired twice"
        fired[plain_id(timer.timer_id)] = datetime.now(UTC)

    now = datetime.now(UTC)
    # The next minute boundary at least 3 s away, so the loop reads that minute ahead before it starts.
    boundary = datetime.fromtimestamp((int(now.timestamp()) // 60 + 1) * 60, UTC)
    if (boundary - now).total_seconds() < 3:
        boundary += timedelta(minutes=1)
    due = boundary + timedelta(seconds=1)
    for n in range(50):
        await timer_store.arm(_timer(n, due, "burst"))
    await timer_store.arm(_timer(99, due, "cancelled"))
    await timer_store.cancel_due("case-99:cancelled", due)
    scheduler = TimerScheduler(timer_store, fire, name="wall-clock", lookback_minutes=5, ahead_seconds=1.5)
    late_armed = False
    async with asyncio.timeout(90):
        while len(fired) < 51:
            if not late_armed and datetime.now(UTC) >= boundary:
                await timer_store.arm(_timer(50, due + timedelta(seconds=1), "late"))  # after the minute was read
                late_armed = True
            await asyncio.sleep(await scheduler.step(0.5))
    assert sorted(fired) == sorted([f"case-{n}:burst" for n in range(50)] + ["case-50:late"])
    assert all(at >= due for at in fired.values()), "no timer fires before it is due"


async def _finished_up_to_now(scheduler: TimerScheduler) -> datetime:
    """A scheduler that has run for ten minutes up to now: every minute before the current one is finished."""
    now = datetime.now(UTC)
    await scheduler.tick(now - timedelta(minutes=10))
    await scheduler.tick(now)
    return now


class DiesAfterItsNote(TimerStore):
    """A store whose writes to a timer's own minute never arrive: the arming process died after its first write."""

    def __init__(self, database, due_minute: int) -> None:
        super().__init__(database)
        self.due_minute = due_minute

    def _in(self, minute: int):
        if minute == self.due_minute:
            raise ConnectionError("killed")
        return super()._in(minute)


async def test_r22_a_timer_armed_past_due_fires_once_promptly_and_its_cancellation_still_counts(timer_store):
    """A deadline that ended before the commit that opened it is filed under its own (past) minute, which a running
    scheduler has finished: it never fired. It fires at the next tick, once across replicas, and is still cancelled by
    its own id and due time."""
    fired = Fired()
    replicas = [TimerScheduler(timer_store, fired, name="shared", lookback_minutes=30) for _ in range(2)]
    now = await _finished_up_to_now(replicas[0])
    past = now - timedelta(minutes=3)
    await timer_store.arm(_timer(1, past))
    await timer_store.arm_many([_timer(2, past - timedelta(minutes=1)), _timer(3, past)])
    await timer_store.settle(cancelled=[], armed=[_timer(4, past, "warning")])
    await timer_store.arm(_timer(5, past, "cancelled"))
    await timer_store.cancel_due("case-5:cancelled", past)
    at = datetime.now(UTC) + LATE_MARGIN + timedelta(seconds=1)  # the next tick (its note may be in the next minute)
    counts = await asyncio.gather(*(r.tick(at) for r in replicas))
    assert sum(counts) == 4, counts
    assert sorted(fired) == ["case-1:breach", "case-2:breach", "case-3:breach", "case-4:warning"]
    assert [await r.tick(at + timedelta(minutes=2)) for r in replicas] == [0, 0], "and only once"
    assert await timer_store.armed() == []


async def test_r22_a_timer_armed_past_due_fires_though_its_arming_process_died_after_the_note(timer_store, database):
    fired = Fired()
    scheduler = TimerScheduler(timer_store, fired, lookback_minutes=30)
    now = await _finished_up_to_now(scheduler)
    past = now - timedelta(minutes=3)
    dying = DiesAfterItsNote(database, minute_of(past))
    with pytest.raises(ConnectionError):
        await dying.arm(_timer(6, past))
    at = datetime.now(UTC) + LATE_MARGIN + timedelta(seconds=1)
    assert await scheduler.tick(at) == 0, "filed from its note first, fired from the next read"
    assert await scheduler.tick(at + timedelta(seconds=1)) == 1 and fired == ["case-6:breach"]
    assert await scheduler.tick(at + timedelta(minutes=2)) == 0


async def _claimed_by_a_replica_that_dies(timer_store: TimerStore) -> None:
    """A replica claims the due attempt, starts firing it and dies: the attempt stays claimed and not fired."""
    entered = asyncio.Event()

    async def dies_while_firing(_: Timer) -> None:
        entered.set()
        await asyncio.Event().wait()

    dying = asyncio.create_task(
        TimerScheduler(timer_store, dies_while_firing, lookback_minutes=30).tick(datetime.now(UTC))
    )
    await asyncio.wait_for(entered.wait(), 10)
    dying.cancel()
    await asyncio.gather(dying, return_exceptions=True)


async def test_r22_an_attempt_claimed_by_a_replica_that_died_is_taken_over_after_the_stale_claim_time(timer_store):
    await timer_store.arm(_timer(7, datetime.now(UTC) - timedelta(seconds=5)))
    await _claimed_by_a_replica_that_dies(timer_store)
    now = datetime.now(UTC)
    patient, quick = Fired(), Fired()
    default = TimerScheduler(timer_store, patient, lookback_minutes=30)
    assert await default.tick(now + timedelta(seconds=10)) == 0  # 60 s by default: not stale yet
    configured = TimerScheduler(timer_store, quick, lookback_minutes=30, stale_claim=timedelta(seconds=5))
    await configured.tick(now + timedelta(seconds=10))  # stale after 5 s: a new attempt is due
    assert await configured.tick(now + timedelta(seconds=11)) == 1
    assert quick == ["case-7:breach"] and patient == []


async def test_r22_the_wall_clock_loop_takes_over_a_claim_it_first_saw_fresh_from_a_replica_that_died(timer_store):
    """A transfer killed while firing restarts within seconds: its first look finds the attempt claimed and not yet
    stale. The loop must keep it in view (it once counted it as settled, so the minute finished without it and the
    timer stayed armed for good: the crash-while-firing test's stale stage timers)."""
    await timer_store.arm(_timer(8, datetime.now(UTC) - timedelta(seconds=5)))
    await _claimed_by_a_replica_that_dies(timer_store)
    now, fired = datetime.now(UTC), Fired()
    restarted = TimerScheduler(timer_store, fired, lookback_minutes=30, stale_claim=timedelta(seconds=3),
                               refresh_seconds=0.05)  # fmt: skip
    assert await restarted.tick(now, cached=True) == 0, "claimed a moment ago by the dead replica: not stale yet"
    for seconds in (4, 5, 6, 7, 70, 71, 72):  # stale, then the minute over
        await restarted.tick(now + timedelta(seconds=seconds), cached=True)
        await asyncio.sleep(0.3)  # what the loop reads beside it comes in
    assert fired == ["case-8:breach"]
    assert await timer_store.armed() == []


async def test_r22_an_attempt_claimed_elsewhere_costs_no_store_command_until_its_claim_could_be_stale(isolation):
    """A replica that lost a claim read the claim's time again every tick (one bulk claim and one lookup per timer held
    elsewhere) until it went stale. It reads it once and waits, in memory, until the claim could be stale."""
    install()  # before the client: its commands are counted
    client = connect(isolation.servers.mongodb)
    store = TimerStore(client[f"{isolation.database}_held"])
    second = datetime.now(UTC).timestamp() % 60
    if not 5 <= second < 45:  # then due in this minute and armed in time for it: no late note
        await asyncio.sleep((65 - second) % 60)
    due = datetime.now(UTC) - timedelta(seconds=5)
    for n in range(3):
        await store.arm(_timer(n, due))
    await _claimed_by_a_replica_that_dies(store)
    now, fired = datetime.now(UTC), Fired()
    other = TimerScheduler(store, fired, name="other", lookback_minutes=30, stale_claim=timedelta(seconds=30))

    def reads(at: datetime) -> dict[str, int]:  # a driven tick reads each minute it has not finished afresh
        return {"find timer_progress": 1, "find timers_m<minute>": minute_of(at) - minute_of(due) + 1}

    with counting(store.claims.database.name) as log:
        for seconds in (0, 1, 2, 10, 29):
            with scope(f"tick {seconds}"):
                assert await other.tick(now + timedelta(seconds=seconds)) == 0
        # (A first start: its earliest timer listed, and its progress of its own stored at once.)
        first = {"listCollections ": 1, "update timer_progress": 1, "insert timer_claims": 1, "find timer_claims": 3}
        assert tally(log.take("tick 0")) == {**reads(now), **first}
        for seconds in (1, 2, 10, 29):
            assert tally(log.take(f"tick {seconds}")) == reads(now + timedelta(seconds=seconds)), seconds
        with scope("stale"):
            await other.tick(now + timedelta(seconds=31))  # a new attempt of each, without reading the claims again
        assert "find timer_claims" not in tally(log.take("stale"))
    assert await other.tick(now + timedelta(seconds=32)) == 3
    assert sorted(fired) == [f"case-{n}:breach" for n in range(3)]
    await client.close()


class SlowRereads(TimerStore):
    """A store that reads a minute at once the first time and takes `slow` seconds for every read after (a busy
    store reading a minute of 10,000 timers)."""

    def __init__(self, database, slow: float) -> None:
        super().__init__(database)
        self.slow, self.read = slow, set[int]()

    async def due_in_minute(self, minute: int) -> list:
        if minute in self.read:
            await asyncio.sleep(self.slow)
        self.read.add(minute)
        return await super().due_in_minute(minute)


async def test_r22_a_slow_read_of_a_minute_does_not_hold_up_the_timers_already_read(database):
    """Issue 19: the loop re-reads the current minute every 2 s (to find timers armed since). With a busy store that
    read took seconds, and the loop, waiting for it, fired every timer due meanwhile that late (p99 7.3 s at
    1,000,000 armed). It now reads beside the loop and fires from what it read before."""
    store = SlowRereads(database, slow=4.0)
    fired: dict[str, float] = {}

    async def fire(timer: Timer) -> None:
        fired[plain_id(timer.timer_id)] = (datetime.now(UTC) - timer.due_at).total_seconds()

    start = datetime.now(UTC)
    for n in range(40):  # one every 0.1 s from 1 s on: due while the minute is read again
        await store.arm(_timer(n, start + timedelta(seconds=1 + n / 10)))
    scheduler = TimerScheduler(store, fire, name="slow-store", lookback_minutes=5)
    async with asyncio.timeout(60):
        while len(fired) < 40:
            wait = await scheduler.step(0.5)
            await asyncio.sleep(wait)
    assert sorted(fired) == sorted(f"case-{n}:breach" for n in range(40))  # each once
    assert max(fired.values()) < 1.0, sorted(fired.values())[-5:]


async def test_r22_many_timers_armed_at_once_are_filed_as_packs_and_each_fires_once_or_is_cancelled(
    timer_store, database
):
    """A class's deadlines (issue 19): dozens of timers into one minute cost the store a document per pack, not one
    each; a timer armed again in another pack (a redelivered batch) or alone is still one timer."""
    fired = Fired()
    due = T0 + timedelta(minutes=5)
    await timer_store.arm(_timer(0, due))
    await timer_store.arm_many([_timer(n, due) for n in range(40)], packed=True)
    await timer_store.arm_many([_timer(n, due) for n in range(30, 60)], packed=True)  # half again, packed otherwise
    minute = database[f"timers_m{minute_of(due)}"]
    assert await minute.count_documents({}) == 3, "one timer alone and two packs"
    await timer_store.cancel_due("case-7:breach", due)
    states = await timer_store.states([("case-7:breach", due), ("case-8:breach", due), ("case-99:breach", due)])
    assert states == {"case-7:breach": "cancelled", "case-8:breach": "armed", "case-99:breach": None}
    replicas = [TimerScheduler(timer_store, fired, lookback_minutes=30) for _ in range(2)]
    assert sum(await asyncio.gather(*(r.tick(due + timedelta(seconds=1)) for r in replicas))) == 59
    assert sorted(fired) == sorted(f"case-{n}:breach" for n in range(60) if n != 7)
    assert (await timer_store.states([("case-8:breach", due)]))["case-8:breach"] == "fired"


async def test_r22_a_renamed_scheduler_resumes_where_it_was_under_its_former_name(timer_store):
    """An upgrade that renames a scheduler (registry compliance, for timers filed as packs) loses nothing that fell
    due while it was down and fires nothing the former one fired; once it has progress of its own, the former
    name's no longer counts."""
    fired = Fired()
    await timer_store.arm(_timer(1, T0 + timedelta(minutes=1)))
    former = TimerScheduler(timer_store, fired, name="old", lookback_minutes=30)
    assert await former.tick(T0 + timedelta(minutes=2)) == 1
    await former.tick(T0 + timedelta(minutes=3))  # the minute of the timer it fired finished
    await timer_store.arm(_timer(2, T0 + timedelta(hours=2)))  # falls due while it is down, past the lookback
    renamed = TimerScheduler(timer_store, fired, name="new", formerly="old", lookback_minutes=30)
    assert await renamed.tick(T0 + timedelta(hours=5)) == 1
    assert fired == ["case-1:breach", "case-2:breach"]
    await timer_store.arm(_timer(3, T0 + timedelta(hours=6)))
    await TimerScheduler(timer_store, Fired(), name="old", lookback_minutes=30).tick(T0 + timedelta(hours=7))
    again = TimerScheduler(timer_store, fired, name="new", formerly="old", lookback_minutes=30)
    assert await again.tick(T0 + timedelta(hours=7)) == 0, "fired by the other one: claimed once"


async def test_r22_timers_are_packed_only_when_the_caller_asks(timer_store, database):
    """Packs are for a scheduler that reads them also after a rollback (a caller that asks); others file each timer."""
    due = T0 + timedelta(minutes=9)
    await timer_store.arm_many([_timer(n, due) for n in range(20)])
    assert await database[f"timers_m{minute_of(due)}"].count_documents({}) == 20


async def test_r22_a_renamed_scheduler_keeps_to_its_own_progress_from_its_first_tick(timer_store):
    """During a rolling upgrade (or after a rollback) a scheduler of the earlier version runs beside the renamed one
    and moves the former name's progress on, past minutes whose packed timers it cannot read. The renamed one, once
    it has ticked, no longer follows it: it fires them."""
    fired = Fired()
    renamed = TimerScheduler(timer_store, fired, name="new", formerly="old", lookback_minutes=30)
    assert await renamed.tick(T0) == 0  # no minute finished yet
    await timer_store.arm_many([_timer(n, T0 + timedelta(minutes=5)) for n in range(20)], packed=True)
    # The earlier version's scheduler, beside it, finished those minutes without reading the packs.
    await timer_store.finish_minute("old", minute_of(T0 + timedelta(hours=1)))
    assert await renamed.tick(T0 + timedelta(minutes=6)) == 20


async def test_r22_replicas_recording_their_schedulers_first_progress_at_once_both_succeed(timer_store):
    """Replicas of a service share their scheduler's name, and each stores that name's progress at its first tick: two
    replicas starting together both created the progress document, and the loser of that race failed its tick with a
    duplicate key (seen in CI, in the test above where two replicas tick at once)."""
    for attempt in range(40):
        name = f"replicas-{attempt}"
        await asyncio.gather(*(timer_store.finish_minute(name, 100 + attempt) for _ in range(8)))
        assert await timer_store.last_finished_minute(name) == 100 + attempt


async def test_r22_a_timer_whose_every_attempt_failed_is_parked_counted_and_fires_when_armed_again(
    timer_store, monkeypatch
):
    """A deadline's breach that fails every attempt (a store timing out through the midnight burst) is not ended
    silently: it is kept for an operator, counted for the alert, and fires once the operator arms it again."""
    from prometheus_client import REGISTRY

    from xueji_kit import timer_scheduler

    monkeypatch.setattr(timer_scheduler, "MAX_ATTEMPTS", 2)
    counted = lambda: REGISTRY.get_sample_value("xueji_timers_failed_total", {"kind": "breach"}) or 0.0  # noqa: E731
    before = counted()
    failing = Failing()
    await timer_store.arm(_timer(3, T0))
    scheduler = TimerScheduler(timer_store, failing, lookback_minutes=30)
    assert await scheduler.tick(T0 + timedelta(seconds=1)) == 0
    assert await scheduler.tick(T0 + timedelta(seconds=3)) == 0, "its second and last attempt fails too"
    (parked,) = await timer_store.parked()
    assert (parked["_id"], parked["kind"], parked["aggregate_id"]) == ("case-3:breach", "breach", "case-3")
    assert parked["attempts"] == 2 and parked["error_type"] == "RuntimeError"
    assert counted() == before + 1

    timer_store.clock = lambda: T0 + timedelta(minutes=30)
    assert await timer_store.refire() == ["case-3:breach"]
    assert await timer_store.parked() == []
    fired = Fired()
    assert (
        await TimerScheduler(timer_store, fired, lookback_minutes=60).tick(T0 + timedelta(minutes=30, seconds=1)) == 1
    )
    assert fired == ["case-3:breach"]


async def test_r22_a_timer_refired_in_the_minute_it_failed_in_fires_again(timer_store, monkeypatch):
    """`failed_timers refire` arms a parked timer due now under its own id. When now falls in the minute the timer was
    armed and ended in (it failed its last attempt within that minute: its attempts come quickly, or it was refired
    and failed again at once), that minute already holds the id: the arm took nothing, yet the command said "armed
    again" and dropped it from the parking, so the deadline was never sent. Found executing docs/operations.md."""
    from xueji_kit import timer_scheduler

    monkeypatch.setattr(timer_scheduler, "MAX_ATTEMPTS", 1)
    await timer_store.arm(_timer(5, T0))
    assert await TimerScheduler(timer_store, Failing(), lookback_minutes=30).tick(T0 + timedelta(seconds=1)) == 0
    assert [d["_id"] for d in await timer_store.parked()] == ["case-5:breach"]

    timer_store.clock = lambda: T0 + timedelta(seconds=20)  # the operator refires within the same minute
    assert await timer_store.refire() == ["case-5:breach"]
    assert await timer_store.parked() == []
    fired = Fired()
    scheduler = TimerScheduler(timer_store, fired, lookback_minutes=30)
    for seconds in (21, 40, 61, 75):
        await scheduler.tick(T0 + timedelta(seconds=seconds))
    assert fired == ["case-5:breach"], "armed again means it fires (within a minute), once"


class Failing(Fired):
    async def __call__(self, timer: Timer) -> None:
        self.calls += 1
        raise RuntimeError("store timed out")


async def test_r22_the_operator_lists_the_failed_timers_and_fires_them_again_from_the_command_line(
    timer_store, database, isolation, capsys
):
    from xueji_kit.failed_timers import main as failed_timers_cli

    warning = _timer(4, T0, kind="warning")
    as_fired = Timer(f"{minute_of(T0)}|{warning.timer_id}", warning.kind, warning.aggregate_id, T0, warning.data)
    await timer_store.park(as_fired, RuntimeError("store timed out"), 10)
    env = {"MONGODB_URI": isolation.servers.mongodb, "XUEJI_MONGODB_DATABASE": database.name}
    with pytest.MonkeyPatch.context() as patch:
        for variable, value in env.items():
            patch.setenv(variable, value)
        assert await asyncio.to_thread(failed_timers_cli, ["list", "--service", "transfer"]) == 0
        listed = capsys.readouterr().out
        assert "case-4:warning  warning  due 2026-03-02 08:00:00  10 attempts  RuntimeError: store timed out" in listed
        assert await asyncio.to_thread(failed_timers_cli, ["refire", "--service", "transfer"]) == 0
    assert "armed again case-4:warning" in capsys.readouterr().out
    assert await timer_store.parked() == []
    assert [t["_id"] for t in await timer_store.armed()] == ["case-4:warning"]

"""Durable timers on the real store: fire once, survive restarts, never double-fire across replicas (R22)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from xueji_kit.store import connect
from xueji_kit.timers import Timer, TimerScheduler, TimerStore

pytestmark = pytest.mark.integration
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@pytest.fixture
async def timer_store(isolation):
    client = connect(isolation.servers.mongodb)
    store = TimerStore(client[f"{isolation.database}_timers"])
    await store.ensure_indexes()
    yield store
    await client.close()


def _timer(n: int, due: datetime, kind: str = "breach") -> Timer:
    return Timer(f"case-{n}:{kind}", kind, f"case-{n}", due, {"n": n})


async def test_r22_timer_fires_once_when_due_and_not_before(timer_store):
    fired: list[str] = []

    async def fire(timer: Timer) -> None:
        fired.append(timer.timer_id)

    await timer_store.arm(_timer(1, T0 + timedelta(minutes=5)))
    assert not await timer_store.arm(_timer(1, T0 + timedelta(minutes=5))), "re-arming is a no-op"
    scheduler = TimerScheduler(timer_store, fire, lookback_minutes=30)
    assert await scheduler.tick(T0) == 0
    assert await scheduler.tick(T0 + timedelta(minutes=5, seconds=1)) == 1
    assert await scheduler.tick(T0 + timedelta(minutes=6)) == 0
    assert fired == ["case-1:breach"]


async def test_r22_cancelled_timer_never_fires(timer_store):
    fired: list[str] = []

    async def fire(timer: Timer) -> None:
        fired.append(timer.timer_id)

    await timer_store.arm(_timer(2, T0 + timedelta(minutes=1)))
    await timer_store.cancel("case-2:breach")
    await TimerScheduler(timer_store, fire, lookback_minutes=30).tick(T0 + timedelta(minutes=3))
    assert fired == []


async def test_r22_restart_loses_nothing_due_while_down(timer_store):
    fired: list[str] = []

    async def fire(timer: Timer) -> None:
        fired.append(timer.timer_id)

    first = TimerScheduler(timer_store, fire, lookback_minutes=120)
    await first.tick(T0)
    for n in range(5):
        await timer_store.arm(_timer(n, T0 + timedelta(minutes=10 + n)))
    # The scheduler was down for an hour; a new one resumes from the stored progress.
    again = TimerScheduler(timer_store, fire, lookback_minutes=120)
    assert await again.tick(T0 + timedelta(hours=1)) == 5
    assert sorted(fired) == [f"case-{n}:breach" for n in range(5)]


async def test_r22_two_replicas_never_fire_one_timer_twice(timer_store):
    fired: list[str] = []

    async def fire(timer: Timer) -> None:
        await asyncio.sleep(0.001)
        fired.append(timer.timer_id)

    for n in range(30):
        await timer_store.arm(_timer(n, T0 + timedelta(seconds=n)))
    replicas = [TimerScheduler(timer_store, fire, name=f"replica-{i}", lookback_minutes=30) for i in range(3)]
    await asyncio.gather(*(r.tick(T0 + timedelta(minutes=2)) for r in replicas))
    assert sorted(fired) == sorted(f"case-{n}:breach" for n in range(30))


async def test_r22_failing_fire_is_retried_later_then_succeeds(timer_store):
    calls: list[int] = []

    async def flaky(timer: Timer) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("broker away")

    await timer_store.arm(_timer(7, T0))
    scheduler = TimerScheduler(timer_store, flaky, lookback_minutes=30)
    assert await scheduler.tick(T0 + timedelta(seconds=10)) == 0
    assert await scheduler.tick(T0 + timedelta(seconds=10)) == 0, "waits for its backoff"
    assert await scheduler.tick(T0 + timedelta(seconds=20)) == 1
    assert len(calls) == 2


async def test_r22_wall_clock_loop_reads_the_coming_minute_ahead_and_fires_a_burst_once_never_early(isolation):
    """run_forever's turn (`step`): the minute is read before it starts, every timer of a burst due at one instant
    fires once and not before its time, one armed after the read-ahead still fires, a cancelled one never does."""
    from xueji_kit.minute_timers import MinuteTimerStore, plain_id

    client = connect(isolation.servers.mongodb)
    store = MinuteTimerStore(client[f"{isolation.database}_minute_timers"])
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
        await store.arm(_timer(n, due, "burst"))
    await store.arm(_timer(99, due, "cancelled"))
    await store.cancel_due("case-99:cancelled", due)
    scheduler = TimerScheduler(store, fire, name="wall-clock", lookback_minutes=5, ahead_seconds=1.5)
    late_armed = False
    try:
        async with asyncio.timeout(90):
            while len(fired) < 51:
                if not late_armed and datetime.now(UTC) >= boundary:
                    await store.arm(_timer(50, due + timedelta(seconds=1), "late"))  # after the minute was read
                    late_armed = True
                await asyncio.sleep(await scheduler.step(0.5))
    finally:
        await client.close()
    assert sorted(fired) == sorted([f"case-{n}:burst" for n in range(50)] + ["case-50:late"])
    assert all(at >= due for at in fired.values()), "no timer fires before it is due"

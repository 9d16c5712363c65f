"""The per-minute timer store on the real store (R22): only what is due is read; inserts only; fired once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from xueji_kit.minute_timers import MinuteTimerStore, plain_id
from xueji_kit.store import connect
from xueji_kit.timers import Timer, TimerScheduler, minute_of

pytestmark = pytest.mark.integration
DUE = datetime(2025, 3, 24, 16, 0, tzinfo=UTC)  # 24:00 in Shanghai: where deadlines pile up


@pytest.fixture
async def store(isolation):
    client = connect(isolation.servers.mongodb)
    timers = MinuteTimerStore(client[f"{isolation.database}_minutes"])
    await timers.ensure_indexes()
    yield timers
    await client.close()


def _timer(n: int, due: datetime = DUE) -> Timer:
    return Timer(f"case-{n}:breach", "breach", f"case-{n}", due, {})


async def test_r22_a_minute_holds_only_its_timers_and_re_arming_changes_nothing(store):
    await asyncio.gather(*(store.arm(_timer(n)) for n in range(30)))
    await store.arm(_timer(99, DUE + timedelta(days=1)))
    assert not await store.arm(_timer(3)), "re-arming is a no-op"
    due = await store.due_in_minute(minute_of(DUE))
    assert sorted(plain_id(d["_id"]) for d in due) == sorted(f"case-{n}:breach" for n in range(30))
    assert await store.due_in_minute(minute_of(DUE) + 1) == []  # an empty minute is no collection at all
    assert await store.earliest_armed_minute() == minute_of(DUE)


async def test_r22_two_replicas_fire_each_timer_once_and_a_cancelled_one_never(store):
    for n in range(6):
        await store.arm(_timer(n))
    await store.cancel_due("case-2:breach", DUE)
    assert sorted(d["_id"] for d in await store.armed()) == [f"case-{n}:breach" for n in (0, 1, 3, 4, 5)]
    fired: list[str] = []

    async def fire(timer: Timer) -> None:
        await asyncio.sleep(0.001)
        fired.append(plain_id(timer.timer_id))

    replicas = [TimerScheduler(store, fire, name=f"replica-{i}", lookback_minutes=5) for i in range(2)]
    counts = await asyncio.gather(*(r.tick(DUE + timedelta(seconds=30)) for r in replicas))
    assert sum(counts) == 5 and sorted(fired) == [f"case-{n}:breach" for n in (0, 1, 3, 4, 5)]
    assert await replicas[0].tick(DUE + timedelta(minutes=2)) == 0
    assert await store.armed() == []


async def test_r22_a_failing_firing_is_retried_after_its_backoff(store):
    await store.arm(_timer(7))
    calls: list[int] = []

    async def flaky(timer: Timer) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("store away")

    scheduler = TimerScheduler(store, flaky, lookback_minutes=5)
    assert await scheduler.tick(DUE + timedelta(seconds=1)) == 0
    assert await scheduler.tick(DUE + timedelta(seconds=1)) == 0, "waits for its backoff"
    assert await scheduler.tick(DUE + timedelta(seconds=10)) == 1 and len(calls) == 2

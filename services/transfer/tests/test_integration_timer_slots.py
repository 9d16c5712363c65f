"""The transfer service's timer index on the real store (R22): a due minute is read by `_id` lookups only,
concurrent arms into one minute all land without gaps, re-arming is a no-op, a cancelled timer never fires."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from xueji_kit.store import connect
from xueji_kit.timers import Timer, TimerScheduler, minute_of
from xueji_transfer.timer_slots import SlottedTimerStore

pytestmark = pytest.mark.integration
DUE = datetime(2025, 3, 24, 16, 0, tzinfo=UTC)  # 24:00 in Shanghai: where deadlines pile up


@pytest.fixture
async def store(isolation):
    client = connect(isolation.servers.mongodb)
    timers = SlottedTimerStore(client[f"{isolation.database}_slots"])
    await timers.ensure_indexes()
    yield timers
    await client.close()


def _timer(n: int, due: datetime = DUE) -> Timer:
    return Timer(f"case-{n}:breach", "breach", f"case-{n}", due, {})


async def test_r22_concurrent_arms_into_one_minute_are_all_found_once(store):
    await asyncio.gather(*(store.arm(_timer(n)) for n in range(40)))
    assert not await store.arm(_timer(3)), "re-arming is a no-op"
    due = await store.due_in_minute(minute_of(DUE))
    assert sorted(d["_id"] for d in due) == sorted(f"case-{n}:breach" for n in range(40))
    slots = await store.slots.count_documents({})
    assert slots == 40 and await store._first_free_slot(minute_of(DUE)) == 40  # contiguous from 0
    assert await store.due_in_minute(minute_of(DUE) + 1) == []


async def test_r22_a_cancelled_timer_never_fires_and_the_rest_fire_once(store):
    for n in range(5):
        await store.arm(_timer(n))
    await store.cancel("case-2:breach")
    assert [d["_id"] for d in await store.armed()] == [f"case-{n}:breach" for n in (0, 1, 3, 4)]
    fired: list[str] = []

    async def fire(timer: Timer) -> None:
        fired.append(timer.timer_id)

    scheduler = TimerScheduler(store, fire, lookback_minutes=5)
    assert await scheduler.tick(DUE + timedelta(seconds=30)) == 4
    assert await scheduler.tick(DUE + timedelta(minutes=2)) == 0
    assert sorted(fired) == [f"case-{n}:breach" for n in (0, 1, 3, 4)]
    assert await store.armed() == [] and await store.timers.count_documents({"state": "armed"}) == 5, "no updates"

"""Sampled gauges a service adds to its background jobs: consumer lag per topic and partition, timers due.

Additive to xueji_kit.metrics; a service opts in with
`runtime.background += [lambda: sample_consumer_lag(runtime.broker), lambda: sample_timers_due(store, name)]`.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from typing import Any

import structlog
from prometheus_client import Gauge

from xueji_kit.background import keep_running
from xueji_kit.timer_documents import minute_of
from xueji_kit.timer_store import TimerStore

log = structlog.get_logger("telemetry")
CONSUMER_LAG = Gauge(
    "xueji_consumer_lag",
    "Messages between a consumer's position and the partition's end",
    ["group", "topic", "partition"],
)
TIMERS_DUE = Gauge("xueji_timers_due", "Armed timers past their due time and not yet fired", ["scheduler"])


async def _lag_once(broker: Any, known: set[tuple[str, str, str]]) -> set[tuple[str, str, str]]:
    seen: set[tuple[str, str, str]] = set()
    for subscriber in broker.subscribers:
        consumer = getattr(subscriber, "consumer", None)
        if consumer is None:
            continue
        group = str(getattr(subscriber, "group_id", None) or "")
        for partition in consumer.assignment():
            end = consumer.highwater(partition)
            if end is None:  # nothing fetched from it yet
                continue
            with contextlib.suppress(TimeoutError):
                position = await asyncio.wait_for(consumer.position(partition), 1.0)
                labels = (group, partition.topic, str(partition.partition))
                CONSUMER_LAG.labels(*labels).set(max(0, end - position))
                seen.add(labels)
    for gone in known - seen:  # reassigned to another replica: that one reports it now
        with contextlib.suppress(KeyError):
            CONSUMER_LAG.remove(*gone)
    return seen


async def sample_consumer_lag(broker: Any, interval: float = 10.0) -> None:
    known: set[tuple[str, str, str]] = set()

    async def sample() -> None:
        nonlocal known
        known = await _lag_once(broker, known)

    await keep_running(sample, every=interval, log=log, failed="consumer_lag_sample_failed")


async def timers_due(store: TimerStore, scheduler: str, now: datetime) -> int:
    """Due and still armed, in the minutes the scheduler has not finished: O(those timers), not O(all)."""
    current = minute_of(now)
    last = await store.last_finished_minute(scheduler)
    start = current - 60 if last is None else max(last + 1, current - 24 * 60)
    count = 0
    for minute in range(start, current + 1):
        count += sum(1 for d in await store.due_in_minute(minute) if d["state"] == "armed" and d["due_at"] <= now)
    return count


async def sample_timers_due(store: TimerStore, scheduler: str, interval: float = 5.0) -> None:
    async def sample() -> None:
        TIMERS_DUE.labels(scheduler).set(await timers_due(store, scheduler, datetime.now(UTC)))

    await keep_running(sample, every=interval, log=log, failed="timers_due_sample_failed")

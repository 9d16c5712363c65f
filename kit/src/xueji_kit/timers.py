"""Durable timers, by their former single home: the names of `timer_documents`, `timer_store` and `timer_scheduler`.

A constant patched here does not reach the code that reads it: patch it in its own module
(`timer_scheduler.MAX_ATTEMPTS`).
"""

from __future__ import annotations

from xueji_kit.timer_documents import MINUTE, Fire, Timer, minute_of, plain_id
from xueji_kit.timer_scheduler import MAX_ATTEMPTS, STALE_CLAIM, TimerScheduler, tick_time
from xueji_kit.timer_store import FAILED, FLAT, LATE_MARGIN, PACK_FROM, PREFIX, READ_BATCH, TimerStore

__all__ = [
    "FAILED",
    "FLAT",
    "LATE_MARGIN",
    "MAX_ATTEMPTS",
    "MINUTE",
    "PACK_FROM",
    "PREFIX",
    "READ_BATCH",
    "STALE_CLAIM",
    "Fire",
    "Timer",
    "TimerScheduler",
    "TimerStore",
    "minute_of",
    "plain_id",
    "tick_time",
]

"""The SLA timer scheduler (R22, R23, R32): due timers fire the domain's FireTimer at the tick's time."""

# Warning, breach and escalation, offline path, paper file overdue: each fires at the `now` of the tick that found it,
# so a test (or a catch-up) can drive time.

from __future__ import annotations

from datetime import datetime, timedelta

from xueji_kit.timers import STALE_CLAIM, Timer, TimerScheduler, TimerStore, plain_id, tick_time
from xueji_transfer.service import TransferService

SCHEDULER = "transfer-sla"


class SlaTimers:
    def __init__(
        self,
        store: TimerStore,
        service: TransferService,
        *,
        lookback_minutes: int,
        interval_seconds: float,
        stale_claim_seconds: float = STALE_CLAIM.total_seconds(),
    ) -> None:
        self.store = store
        self._service = service
        self._interval = timedelta(seconds=interval_seconds)
        self.scheduler = TimerScheduler(
            store,
            self._fire,
            name=SCHEDULER,
            lookback_minutes=lookback_minutes,
            stale_claim=timedelta(seconds=stale_claim_seconds),
        )

    async def tick(self, now: datetime) -> int:
        """Fire every timer due at `now`; how many fired. Several replicas may tick at once (claims decide)."""
        return await self.scheduler.tick(now)

    async def _fire(self, timer: Timer) -> None:
        now = tick_time()
        await self._service.fire(timer.aggregate_id, plain_id(timer.timer_id), max(now, timer.due_at))

    async def run_forever(self) -> None:
        await self.scheduler.run_forever(self._interval)

"""The webhook delivery retention: deliveries that ended (delivered or failed) more than
XUEJI_WEBHOOK_DELIVERIES_KEPT_DAYS ago are removed by a background job, never on a delivery's or a listing's path.

Each run, the replica holding the `webhook-retention` lease walks every hook ever registered (stopped and removed ones
too: their logs are listed under the nation, `webhooks_under`), trimming each hook's log from its oldest kept entry
(store.retention), and reads at most XUEJI_WEBHOOK_RETENTION_BATCH log entries: a backlog (the first run on a year of
deliveries) is worked off run after run, a few seconds apart, where the last run stopped. A pending delivery is never
removed, and holds back its hook's later ones until it ends.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import structlog

from xueji_kit.background import keep_running
from xueji_kit.lease import SlotLease
from xueji_notify.metrics import WEBHOOK_DELIVERIES_PRUNED
from xueji_notify.store import WebhookStore
from xueji_notify.store.retention import prune_log

log = structlog.get_logger("notify.webhooks")
BUSY_PAUSE = 5.0  # seconds between runs while a backlog remains


class DeliveryRetention:
    def __init__(self, store: WebhookStore, lease: SlotLease, *, kept: timedelta, batch: int, every: float) -> None:
        self._store = store
        self._lease = lease
        self._kept = kept
        self._batch = batch
        self._every = every
        self._resume = 0  # the hook (by its place in the nation's list) the next run begins with
        self._more = False

    async def run_once(self, now: datetime) -> int:
        """One run; how many deliveries it removed (0 where another replica holds the lease)."""
        if not await self._lease.holds(now):
            self._more = False
            return 0
        hooks = await self._store.listed.every("")
        cutoff, budget, removed, more = now - self._kept, self._batch, 0, False
        first = self._resume if self._resume < len(hooks) else 0
        for place in range(first, len(hooks)):
            if budget <= 0 or not await self._lease.holds(datetime.now(UTC)):
                more, self._resume = True, place
                break
            pruned = await prune_log(self._store, hooks[place], cutoff, budget)
            budget -= pruned.read
            removed += pruned.removed
            if pruned.more:
                more, self._resume = True, place
                break
        else:
            self._resume = 0
        WEBHOOK_DELIVERIES_PRUNED.inc(removed)
        if removed or more:
            log.info("webhook_deliveries_pruned", removed=removed, ended_before=cutoff.isoformat(), more=more)
        self._more = more
        return removed

    @property
    def backlog(self) -> bool:
        """Whether the last run stopped at its batch with more to remove (the next comes within seconds)."""
        return self._more

    def _pause(self) -> float:
        return min(BUSY_PAUSE, self._every) if self._more else self._every

    async def run_forever(self) -> None:
        async def turn() -> int:
            return await self.run_once(datetime.now(UTC))

        await keep_running(turn, every=self._pause, log=log, failed="webhook_retention_failed")

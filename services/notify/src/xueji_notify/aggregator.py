"""Keeps the dashboard's counts per jurisdiction node current: the one writer of `dashboard_nodes`.

Consumers mark the nodes an event touched as dirty; the lease holder takes the marks (deleting them
first, so a mark made meanwhile survives for the next tick), recounts each node from its own stages
plus its children's totals, deepest first, and records which nodes changed for the live pages.
One writer means no lost updates without transactions or atomic increments (FerretDB 1.x has neither).
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, date, datetime, timedelta

import structlog

from xueji_kit.background import keep_running
from xueji_kit.lease import SlotLease
from xueji_notify.calendar_source import ProvinceCalendar
from xueji_notify.domain.calendar import local_day
from xueji_notify.domain.counts import Counts, due_within, own_counts
from xueji_notify.domain.jurisdiction import level_of, parent_of
from xueji_notify.metrics import AGGREGATE_SECONDS, PROJECTION_DELAY, STAGES
from xueji_notify.store import DashboardStore

log = structlog.get_logger("notify.dashboard")
BREACH_WINDOW_DAYS = 30
CHANGES_KEPT_SECONDS = 600


class DashboardAggregator:
    def __init__(
        self,
        store: DashboardStore,
        lease: SlotLease,
        calendar: ProvinceCalendar,
        province: str,
        *,
        interval: float,
        sweep_every: float,
        days_kept: int = 400,
    ) -> None:
        self._store = store
        self._lease = lease
        self._calendar = calendar
        self._province = province
        self._interval = interval
        self._sweep_every = sweep_every
        self._last_sweep: float | None = None  # never: the first round after a start recounts every node
        self._days_kept = days_kept
        self._pruned_on: date | None = None

    async def run_once(self, now: datetime) -> list[str]:
        """Recount what changed; returns the nodes written (empty when another replica leads)."""
        if not await self._lease.holds(now):
            return []
        if self._pruned_on != local_day(now):
            await self.prune_days(now)
        marks = await self._store.take_dirty(5000)
        nodes = [node for node, _ in marks]
        # A process killed between taking marks and writing their recount lost those marks: its successor's first
        # round sweeps, however recently the host booted (the monotonic clock starts near 0 then).
        if self._last_sweep is None or time.monotonic() - self._last_sweep >= self._sweep_every:
            self._last_sweep = time.monotonic()
            nodes += await self._store.all_nodes()
        if not nodes:
            return []
        with AGGREGATE_SECONDS.time():
            written = await self.recount(nodes, now)
        for _, marked_at in marks:
            PROJECTION_DELAY.observe(max(0.0, (datetime.now(UTC) - marked_at).total_seconds()))
        await self._store.add_change(int(now.timestamp()), written, str(uuid.uuid4()))
        await self._store.prune_changes(int(now.timestamp()) - CHANGES_KEPT_SECONDS)
        return written

    async def recount(self, nodes: list[str], now: datetime) -> list[str]:
        """Deepest nodes first, each followed by its parent, so a total always sums fresh children."""
        pending, written = set(nodes), []
        today = local_day(now)
        while pending:
            node = max(pending, key=len)
            pending.remove(node)
            total = await self._recount(node, today, now)
            written.append(node)
            if node == self._province:
                self._export(total, today)
            parent = parent_of(node)
            if parent is not None:
                pending.add(parent)
        return written

    async def _recount(self, node: str, today: date, now: datetime) -> Counts:
        store = self._store
        window = local_day(now) - timedelta(days=BREACH_WINDOW_DAYS)
        school = len(node) == 10
        # Each lookup is an equality on an indexed key; skip those that cannot match at this level:
        # offline cases belong to schools, escalations go to bureaus, schools have no children.
        breach_days = [local_day(at) for at in await store.breach_times_at(node)]
        escalated = [] if school else await store.escalated_to(node)
        cases = await store.cases_at(node) if school else []
        own = own_counts(await store.open_stages_at(node), escalated, cases, breach_days, window)
        total = own
        for child in [] if school else await store.children(node):
            total = total + Counts.from_doc(child.get("total"))
        doc = {"parent": parent_of(node), "level": level_of(node).value, "own": own.as_doc(), "total": total.as_doc()}
        await store.put_node(node, doc | {"updated_at": now})
        # The day's record: the last recount of a day stands for it (the sweep recounts every node at least daily).
        day = today.isoformat()
        await store.put_day(node, day, {"node": node, "day": day, "parent": doc["parent"], "total": doc["total"],
                                        "own": doc["own"], "updated_at": now})  # fmt: skip
        return total

    async def prune_days(self, now: datetime) -> int:
        """The daily retention of day records (dashboard_days): days older than `days_kept` are removed."""
        today = local_day(now)
        before = (today - timedelta(days=self._days_kept)).isoformat()
        removed = await self._store.prune_days(await self._store.all_nodes(), before)
        self._pruned_on = today
        if removed:
            log.info("dashboard_days_pruned", removed=removed, before=before)
        return removed

    def _export(self, total: Counts, today: object) -> None:
        for state in ("open", "breached", "warned", "escalated", "provisional", "offline_pending", "reconciled"):
            STAGES.labels(state).set(getattr(total, state))
        cal = self._calendar
        STAGES.labels("due_soon").set(due_within(total, cal.calendar, local_day(datetime.now(UTC)), cal.warning_lead))

    async def run_forever(self) -> None:
        # The store may be away for a moment; the marks stay until it is back.
        await keep_running(
            lambda: self.run_once(datetime.now(UTC)), every=self._interval, log=log, failed="dashboard_recount_failed"
        )

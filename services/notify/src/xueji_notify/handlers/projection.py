"""Applies one dashboard Change: projection fields, history, nodes to recount, then the notifications."""

from __future__ import annotations

from datetime import UTC, datetime

from xueji_notify.domain.projection import Change
from xueji_notify.metrics import BREACHES
from xueji_notify.notifier import Notifier
from xueji_notify.store import DashboardStore


async def apply(change: Change, dashboard: DashboardStore, notifier: Notifier, *, case: bool = False) -> None:
    if change.fields:
        if case:
            await dashboard.set_case(change.key, change.fields)
        else:
            await dashboard.set_stage(change.key, change.fields, insert_open=change.insert_open)
    if change.history is not None:
        first_time = await dashboard.add_history(change.history)
        if first_time and change.history["kind"] == "breached":
            BREACHES.labels(change.fields["escalated_to_level"]).inc()
    if change.dirty:
        await dashboard.mark_dirty(change.dirty, datetime.now(UTC))
    await notifier.send(change.notes)

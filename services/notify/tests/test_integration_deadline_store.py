"""A deadline's warning or breach on the dashboard, on the real store (R02/R54 compliance, R14 review deadlines): one
read and at most one write, each by `_id` alone, and a deadline met stays met.

FerretDB 1.x serves only a single `_id` equality from an index: a filter with `state` beside `_id` scanned the whole
collection (its explain shows no filter pushdown and a SCAN), once per warning or breach."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from xueji_kit import store_commands
from xueji_kit.store import connect
from xueji_kit.store_commands import counting, scans, scope, tally
from xueji_notify.store.dashboard import DashboardStore

pytestmark = pytest.mark.integration
NOW = datetime(2025, 9, 30, 2, 0, tzinfo=UTC)
READ, WRITE = "find dashboard_compliance", "update dashboard_compliance"


def _row(state: str, **more: Any) -> dict[str, Any]:
    return {"kind": "annual_roster", "rule": "R54", "state": state, "jurisdiction": "3506020001",
            "scopes": ["35", "3506", "350602", "3506020001"], "due_at": NOW, "at": NOW, **more}  # fmt: skip


async def test_r54_a_late_deadline_state_is_one_read_and_one_write_by_id_and_none_after_it_was_met(isolation):
    store_commands.install()  # before the client is made
    name = f"{isolation.database}_deadlines"
    client = connect(isolation.servers.mongodb)
    dashboard = DashboardStore(client[name])
    try:
        with counting(name) as log:
            with scope("first"):  # a breach before anything else of its deadline: the row is made
                assert await dashboard.set_deadline("roster-1", _row("overdue", flagged_to="350602"))
            with scope("open"):
                await dashboard.set_deadline("roster-2", _row("opened"))
            with scope("due_soon"):
                assert await dashboard.set_deadline("roster-2", _row("due_soon"))
            await dashboard.set_deadline("roster-2", _row("met"))
            with scope("after_met"):
                assert not await dashboard.set_deadline("roster-2", _row("overdue", flagged_to="350602"))
        steps = {name: log.take(name) for name in ("first", "open", "due_soon", "after_met")}
        assert {name: scans(commands) for name, commands in steps.items()} == {name: [] for name in steps}
        assert {name: tally(commands) for name, commands in steps.items()} == {
            "first": {READ: 1, WRITE: 1},
            "open": {WRITE: 1},  # not a late state: nothing to decide
            "due_soon": {READ: 1, WRITE: 1},
            "after_met": {READ: 1},  # decided on the row read: nothing written
        }
        rows = {d["_id"]: d async for d in client[name]["dashboard_compliance"].find({})}
        assert rows["roster-1"]["state"] == "overdue" and rows["roster-1"]["flagged_to"] == "350602"
        assert rows["roster-2"]["state"] == "met" and "flagged_to" not in rows["roster-2"]
        # Opened again (a recurring deadline): its breach is written again.
        await dashboard.set_deadline("roster-2", _row("opened"))
        assert await dashboard.set_deadline("roster-2", _row("overdue", flagged_to="350602"))
        row = await client[name]["dashboard_compliance"].find_one({"_id": "roster-2"})
        assert row is not None and (row["state"], row["flagged_to"]) == ("overdue", "350602")
    finally:
        await client.drop_database(name)
        await client.close()

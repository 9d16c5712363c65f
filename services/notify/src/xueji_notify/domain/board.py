"""What the dashboard shows for a node on a given day, from its pre-aggregated counts (R22, R23)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from xueji_notify.domain.calendar import WorkingDays
from xueji_notify.domain.counts import SCALARS, Counts, by_working_days_left, due_within, urgency
from xueji_notify.domain.jurisdiction import division_code, level_of

Names = Callable[[str], str | None]
SPARK_DAYS = 14


def series(counts: Counts, today: date, days: int) -> list[int]:
    """Breaches per day over the last `days` days, oldest first."""
    return [counts.breaches_by_day.get((today - timedelta(days=n)).isoformat(), 0) for n in range(days - 1, -1, -1)]


def figures(counts: Counts, calendar: WorkingDays, today: date, within: int) -> dict[str, Any]:
    out: dict[str, Any] = {name: getattr(counts, name) for name in SCALARS}
    out["due_within"] = due_within(counts, calendar, today, within)
    out["escalated_levels"] = counts.escalated_levels
    out["by_stage"] = counts.by_stage
    return out


def describe(node: str, names: Names) -> dict[str, Any]:
    return {"node": node, "code": division_code(node), "level": level_of(node).value, "name": names(node)}


def row(node: str, counts: Counts, calendar: WorkingDays, today: date, within: int, names: Names) -> dict[str, Any]:
    return (
        describe(node, names) | figures(counts, calendar, today, within) | {"spark": series(counts, today, SPARK_DAYS)}
    )


def sorted_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Most urgent first: breached, then escalated here, then due soon, then open; code breaks ties."""

    def key(r: dict[str, Any]) -> tuple[int, int, int, int, str]:
        counts = Counts(open=r["open"], breached=r["breached"], escalated=r["escalated"])
        return (*urgency(counts, r["due_within"]), r["code"])

    return sorted(rows, key=key)


def summary(
    node: str,
    total: Counts,
    own: Counts | None,
    children: dict[str, Counts],
    *,
    calendar: WorkingDays,
    today: date,
    within: int,
    names: Names,
    path: list[str],
) -> dict[str, Any]:
    rows = [row(child, counts, calendar, today, within, names) for child, counts in children.items()]
    return describe(node, names) | {
        "path": [describe(step, names) for step in path],
        "today": today.isoformat(),
        "within": within,
        "totals": figures(total, calendar, today, within),
        "own": figures(own, calendar, today, within) if own is not None and not own.is_quiet() else None,
        "children": sorted_rows(rows),
        "left": list(by_working_days_left(total, calendar, today).items()),  # in order: a JSON object would not keep it
        "breaches": [
            {"day": (today - timedelta(days=n)).isoformat(), "n": v}
            for n, v in zip(range(29, -1, -1), series(total, today, 30), strict=True)
        ],
    }

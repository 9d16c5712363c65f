"""Pre-aggregated dashboard counts per jurisdiction node: a node's own stages plus the sum of its children.

The consumer keeps these current (one writer, see aggregator.py); reading the dashboard never aggregates.
Counts that depend on today ("due within N working days") are kept as a histogram by due day.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any

from xueji_notify.domain.calendar import WorkingDays, add_working_days, due_day, working_days_left
from xueji_notify.domain.cases import is_offline_pending
from xueji_notify.domain.stages import is_breached, is_open, is_warned

SCALARS = ("open", "breached", "warned", "escalated", "provisional", "offline_pending", "reconciled")
HISTOGRAMS = ("escalated_levels", "due_days", "by_stage", "breaches_by_day")


@dataclass
class Counts:
    open: int = 0
    breached: int = 0
    warned: int = 0
    escalated: int = 0  # breached stages escalated to this node or one below it
    provisional: int = 0
    offline_pending: int = 0
    reconciled: int = 0
    escalated_levels: dict[str, int] = field(default_factory=dict)
    due_days: dict[str, int] = field(default_factory=dict)  # open, not yet breached, by due day
    by_stage: dict[str, int] = field(default_factory=dict)
    breaches_by_day: dict[str, int] = field(default_factory=dict)

    def __add__(self, other: Counts) -> Counts:
        total = Counts(**{name: getattr(self, name) + getattr(other, name) for name in SCALARS})
        for name in HISTOGRAMS:
            merged = Counter(getattr(self, name))
            merged.update(getattr(other, name))
            setattr(total, name, dict(merged))
        return total

    def as_doc(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any] | None) -> Counts:
        if not doc:
            return cls()
        return cls(**{f.name: doc[f.name] for f in fields(cls) if f.name in doc})

    def is_quiet(self) -> bool:
        return not any(getattr(self, name) for name in SCALARS)


def own_counts(
    stages: Iterable[Mapping[str, Any]],
    escalated_here: Iterable[Mapping[str, Any]],
    cases: Iterable[Mapping[str, Any]],
    breach_days: Iterable[date],
    window_start: date,
) -> Counts:
    """A node's own part: its open stages, the breaches escalated to it, its offline cases, recent breaches."""
    counts = Counts()
    due: Counter[str] = Counter()
    by_stage: Counter[str] = Counter()
    for doc in stages:
        if not is_open(doc):
            continue
        counts.open += 1
        by_stage[doc["stage"]] += 1
        counts.provisional += bool(doc.get("provisional"))
        if is_breached(doc):
            counts.breached += 1
        else:
            counts.warned += is_warned(doc)
            if doc.get("due_at") is not None:
                due[due_day(doc["due_at"]).isoformat()] += 1
    levels: Counter[str] = Counter(str(d.get("escalated_to_level")) for d in escalated_here if is_breached(d))
    counts.escalated = sum(levels.values())
    for case in cases:
        counts.reconciled += bool(case.get("reconciled_at"))
        counts.offline_pending += is_offline_pending(case)
    days = Counter(day.isoformat() for day in breach_days if day >= window_start)
    counts.escalated_levels, counts.due_days, counts.by_stage, counts.breaches_by_day = (
        dict(levels),
        dict(due),
        dict(by_stage),
        dict(days),
    )
    return counts


def due_within(counts: Counts, calendar: WorkingDays, today: date, working_days: int) -> int:
    """Open stages not yet breached whose deadline falls from today to `working_days` working days on."""
    last = add_working_days(calendar, today, working_days).isoformat()
    first = today.isoformat()
    return sum(n for day, n in counts.due_days.items() if first <= day <= last)


LEFT_BUCKETS = ("overdue", "0", "1", "2", "3-5", "6-10", ">10")


def by_working_days_left(counts: Counts, calendar: WorkingDays, today: date) -> dict[str, int]:
    """Open stages by working days left, for the chart; breached ones are the 'overdue' bar."""
    buckets = dict.fromkeys(LEFT_BUCKETS, 0)
    buckets["overdue"] = counts.breached
    for day, n in counts.due_days.items():
        left = working_days_left(calendar, today, date.fromisoformat(day))
        name = (
            "overdue"
            if left < 0
            else str(left)
            if left <= 2
            else "3-5"
            if left <= 5
            else "6-10"
            if left <= 10
            else ">10"
        )
        buckets[name] += n
    return buckets


def urgency(counts: Counts, due_soon: int) -> tuple[int, int, int, int]:
    """Children sorted so the row that needs chasing is on top."""
    return -counts.breached, -counts.escalated, -due_soon, -counts.open

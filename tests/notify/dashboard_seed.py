"""A small, believable province for the dashboard tests: cases in two cities, some late, some offline."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import notify_events as ev

# Zhangzhou (3506): Xiangcheng 350602, Longwen 350603; Fuzhou (3501): Gulou 350102.
SCHOOLS = {
    "350602": ["3506020001", "3506020002", "3506020003"],
    "350603": ["3506030001", "3506030002"],
    "350102": ["3501020001", "3501020002"],
}


@dataclass
class Seeded:
    messages: list[Any] = field(default_factory=list)
    open: int = 0
    breached: int = 0
    offline_pending: int = 0
    reconciled: int = 0
    late_stage: Any = None  # an open, not yet breached stage a test can breach live

    def add(self, *messages: Any) -> None:
        self.messages += messages


def province() -> Seeded:
    seeded = Seeded()
    today = datetime.now(UTC).astimezone(ev.SHANGHAI).date()
    n = 0
    for county, schools in SCHOOLS.items():
        for school in schools:
            for k in range(2 + (n % 3)):
                n += 1
                tid = f"TR2026{n:04d}"
                due = today + timedelta(days=(n * 5) % 17 - 3)
                opened = ev.opened(tid, school, due=due, provisional=(n % 7 == 0),
                                   at=datetime.now(UTC) - timedelta(days=10 - k))  # fmt: skip
                seeded.add(opened)
                seeded.open += 1
                if due < today:
                    seeded.add(ev.breached(tid, opened.payload.deadline.due_at, school, to=county,
                                           count=1 + (n % 2)))  # fmt: skip
                    seeded.breached += 1
                elif (due - today).days <= 3:
                    seeded.add(ev.warning(tid, opened.payload.deadline.due_at, school))
                elif seeded.late_stage is None:
                    seeded.late_stage = opened
        # One bureau stage per county, late and escalated to the city.
        n += 1
        tid = f"TR2026{n:04d}"
        opened = ev.opened(tid, county, stage="receiving_bureau", step=4, due=today - timedelta(days=2))
        seeded.add(opened, ev.breached(tid, opened.payload.deadline.due_at, county, stage="receiving_bureau",
                                       to=county[:4] + "00", level="city"))  # fmt: skip
        seeded.open += 1
        seeded.breached += 1
    for i, school in enumerate(["3506020001", "3506030001", "3501020002"]):
        tid = f"TR2025{i:04d}"
        seeded.add(ev.case(tid, "offline_opened", school), ev.case(tid, "offline_accepted", school))
        seeded.offline_pending += 1
        if i == 0:
            seeded.add(ev.case(tid, "reconciled", school))
            seeded.offline_pending -= 1
            seeded.reconciled += 1
    return seeded

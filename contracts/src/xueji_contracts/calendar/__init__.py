"""The working-day calendar (R31): national holiday notices 2004 onward, provincial adjustments, deadlines.

Usage: `national_calendar()` (the packaged data, read once), `load_calendar(path)` (a newer copy,
e.g. the xueji-calendar ConfigMap), then `calendar.stage_deadline(opened_at, 10, 2)` (R22).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from xueji_contracts.calendar.days import CalendarDays, parse_national, read_national
from xueji_contracts.calendar.deadlines import SHANGHAI, add_months, end_of_local_day, local_date, require_aware
from xueji_contracts.calendar.semesters import Semester, semester_of
from xueji_contracts.calendar.working_days import WorkingDayCalendar
from xueji_contracts.messages.transfer import StageDeadline


def load_calendar(path: str | Path | None = None) -> WorkingDayCalendar:
    """The national calendar read from `path`, or from the JSON packaged with contracts when None."""
    return WorkingDayCalendar(read_national(path))


@cache
def national_calendar() -> WorkingDayCalendar:
    """The packaged national calendar, read once per process (it is immutable, so sharing is safe)."""
    return load_calendar()


__all__ = [
    "SHANGHAI",
    "CalendarDays",
    "Semester",
    "StageDeadline",
    "WorkingDayCalendar",
    "add_months",
    "end_of_local_day",
    "load_calendar",
    "local_date",
    "national_calendar",
    "parse_national",
    "require_aware",
    "semester_of",
]

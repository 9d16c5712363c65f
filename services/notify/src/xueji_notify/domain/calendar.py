"""Working days as the dashboard counts them, on the same calendar the SLA timers use (R22, R31).

The calendar is an argument with one method, `is_working_day`; the contracts' WorkingDayCalendar has
it, and `WeekdaysOnly` stands in where no notice is loaded (its days are provisional).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
_TICK = timedelta(microseconds=1)


class WorkingDays(Protocol):
    def is_working_day(self, day: date, /) -> bool: ...


class WeekdaysOnly:
    """Monday to Friday: what a year without a State Council notice falls back to (provisional)."""

    def is_working_day(self, day: date, /) -> bool:
        return day.weekday() < 5


def local_day(at: datetime) -> date:
    return at.astimezone(SHANGHAI).date()


def due_day(due_at: datetime) -> date:
    """The day a deadline belongs to: due 24:00 local is stored as the next midnight, so step back."""
    return local_day(due_at - _TICK)


def working_days_left(calendar: WorkingDays, today: date, due: date) -> int:
    """Working days after today up to and including the due day: 0 when due today, negative once past
    (minus the working days since the due day)."""
    if due >= today:
        return sum(1 for n in range(1, (due - today).days + 1) if calendar.is_working_day(today + timedelta(n)))
    return -sum(1 for n in range(1, (today - due).days + 1) if calendar.is_working_day(due + timedelta(n)))


def add_working_days(calendar: WorkingDays, start: date, count: int) -> date:
    """The day `count` working days after `start` (`start` itself when count is 0)."""
    day, left = start, count
    while left > 0:
        day += timedelta(days=1)
        if calendar.is_working_day(day):
            left -= 1
    return day

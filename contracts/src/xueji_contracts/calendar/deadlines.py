"""Deadline times: stage SLAs in working days (R22, R31) and month periods (R02, R32, R54), in Asia/Shanghai.

Every deadline ends at 24:00 China time of its last day, stored as the UTC instant of the next
local midnight; inputs must be timezone-aware so a server's local zone can never leak in.
"""

from __future__ import annotations

import calendar as gregorian
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from xueji_contracts.messages.transfer import StageDeadline

SHANGHAI = ZoneInfo("Asia/Shanghai")


class WorkingDays(Protocol):
    """What a deadline needs of a calendar (`WorkingDayCalendar` is one). Named here rather than imported, so
    `working_days` uses this module and not the other way round."""

    @property
    def version(self) -> str: ...

    def is_working_day(self, day: date, /) -> bool: ...

    def add_working_days(self, start: date, n: int, /) -> date: ...

    def is_provisional(self, first: date, last: date, /) -> bool: ...


def require_aware(value: datetime, name: str) -> datetime:
    """`value`, or ValueError naming the argument when it has no time zone."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got naive {value.isoformat()}")
    return value


def local_date(at: datetime, name: str = "at") -> date:
    """The China calendar date of an instant (what "the day a stage opened" means)."""
    return require_aware(at, name).astimezone(SHANGHAI).date()


def end_of_local_day(day: date) -> datetime:
    """24:00 Asia/Shanghai at the end of `day`, as a UTC datetime."""
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=SHANGHAI).astimezone(UTC)


def add_months(day: date, months: int) -> date:
    """The corresponding day `months` later, or that month's last day when it has none (Civil Code art. 202)."""
    month_index = day.year * 12 + day.month - 1 + months
    year, month = divmod(month_index, 12)
    return date(year, month + 1, min(day.day, gregorian.monthrange(year, month + 1)[1]))


def stage_deadline(calendar: WorkingDays, opened_at: datetime, working_days: int, warning_lead: int) -> StageDeadline:
    """The SLA of a verification stage (R22): due at 24:00 of the N-th working day after the opening day.

    The opening day never counts, whatever the hour, matching "within 10 working days" in 002 III.6.
    The warning fires at 24:00 of the working day `warning_lead` working days before the due day, so
    exactly `warning_lead` whole working days are left when it arrives (10 and 2: end of day 8).
    Provisional when any year from opening to due has no loaded notice (R31).
    """
    opened_day = local_date(opened_at, "opened_at")
    if working_days < 1:
        raise ValueError(f"working_days must be at least 1, got {working_days}")
    if not 0 <= warning_lead < working_days:
        # A lead of working_days or more would warn before the stage even opened.
        raise ValueError(f"warning_lead must be from 0 to working_days - 1 ({working_days - 1}), got {warning_lead}")
    due_day = calendar.add_working_days(opened_day, working_days)
    warn_day = calendar.add_working_days(due_day, -warning_lead)
    return StageDeadline(
        opened_at=opened_at.astimezone(UTC),
        due_at=end_of_local_day(due_day),
        warn_at=end_of_local_day(warn_day),
        calendar_version=calendar.version,
        provisional=calendar.is_provisional(opened_day, due_day),
    )


def month_deadline(calendar: WorkingDays, start: datetime, months: int) -> datetime:
    """End of a "within N months" period starting at `start` (status file R02, paper file R32, rosters R54).

    Counted as the Civil Code counts periods (arts. 201-203): the start day does not count, the
    period ends on the corresponding day, and a last day that is not a working day moves to the
    next working day.
    """
    if months < 1:
        raise ValueError(f"months must be at least 1, got {months}")
    last = add_months(local_date(start, "start"), months)
    if not calendar.is_working_day(last):
        last = calendar.add_working_days(last, 1)
    return end_of_local_day(last)

"""What the domain needs from the working-day calendar (R31): a Protocol, so the calendar is an argument."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from xueji_contracts.messages.transfer import StageDeadline


class ComputedDeadline(Protocol):
    """A deadline as the calendar computes it; `provisional` when a year's notice is not loaded."""

    @property
    def due_at(self) -> datetime: ...

    @property
    def warn_at(self) -> datetime: ...

    @property
    def provisional(self) -> bool: ...

    @property
    def calendar_version(self) -> str: ...


class DeadlineCalendar(Protocol):
    """Working-day arithmetic in Asia/Shanghai; the domain never reads a clock or a file itself."""

    def stage_deadline(self, opened_at: datetime, working_days: int, warning_lead: int) -> ComputedDeadline:
        """Due at 24:00 of the `working_days`-th working day after the day of `opened_at`;
        warned `warning_lead` working days earlier."""
        ...

    def month_deadline(self, start: datetime, months: int) -> datetime:
        """24:00 of the day `months` calendar months after `start`'s day, or of the next working day
        when that day is not one (the Civil Code's count of "within N months")."""
        ...


def deadline_from(
    calendar: DeadlineCalendar, opened_at: datetime, working_days: int, warning_lead: int
) -> StageDeadline:
    """The calendar's answer as the contract's StageDeadline (the shape stage messages carry)."""
    computed = calendar.stage_deadline(opened_at, working_days, warning_lead)
    return StageDeadline(
        opened_at=opened_at,
        due_at=computed.due_at,
        warn_at=computed.warn_at,
        calendar_version=computed.calendar_version,
        provisional=computed.provisional,
    )

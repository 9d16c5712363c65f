"""A weekday-only calendar: R31's provisional fallback, and the stand-in used by the domain tests."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from xueji_contracts.messages.transfer import StageDeadline
from xueji_transfer.domain.china_time import end_of_day, local_date


class WeekdayCalendar:
    """Monday-Friday are working days except `rest_days`; `work_days` are extra (make-up) working days."""

    def __init__(
        self,
        *,
        rest_days: frozenset[date] = frozenset(),
        work_days: frozenset[date] = frozenset(),
        version: str = "weekday-only",
        provisional: bool = True,
    ) -> None:
        self.rest_days = rest_days
        self.work_days = work_days
        self.version = version
        self.provisional = provisional

    def is_working_day(self, day: date) -> bool:
        if day in self.work_days:
            return True
        return day.weekday() < 5 and day not in self.rest_days

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after `start` (n = 0 is `start` itself)."""
        day = start
        for _ in range(n):
            day += timedelta(days=1)
            while not self.is_working_day(day):
                day += timedelta(days=1)
        return day

    def stage_deadline(self, opened_at: datetime, working_days: int, warning_lead: int) -> StageDeadline:
        start = local_date(opened_at)
        due = end_of_day(self.add_working_days(start, working_days))
        warn = end_of_day(self.add_working_days(start, max(working_days - warning_lead, 0)))
        return StageDeadline(
            opened_at=opened_at,
            due_at=due,
            warn_at=min(warn, due),
            calendar_version=self.version,
            provisional=self.provisional,
        )

"""A weekday-only DeadlineCalendar with optional rest and make-up days: what the domain's own tests
run on, so they do not depend on the national data (the real one is xueji_contracts.calendar)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from xueji_contracts.calendar import add_months, end_of_local_day, local_date
from xueji_contracts.messages.transfer import StageDeadline


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
        due_day = self.add_working_days(local_date(opened_at), working_days)
        warn_day = self.add_working_days(local_date(opened_at), working_days - warning_lead)
        return StageDeadline(
            opened_at=opened_at,
            due_at=end_of_local_day(due_day),
            warn_at=end_of_local_day(warn_day),
            calendar_version=self.version,
            provisional=self.provisional,
        )

    def month_deadline(self, start: datetime, months: int) -> datetime:
        """24:00 of the same day `months` later, moved to the next working day if it is not one."""
        last = add_months(local_date(start), months)
        return end_of_local_day(last if self.is_working_day(last) else self.add_working_days(last, 1))

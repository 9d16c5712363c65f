"""TEST ONLY: a deadline calendar in which a working day lasts a few seconds (XUEJI_TEST_WORKING_DAY_SECONDS).

A reliability test that kills transfer while its SLA timers fire needs stages that fall due within seconds, armed and
fired the way production arms and fires them (the domain asks the calendar for a stage's deadline, the service files
the timers under their due minutes, the wall-clock scheduler fires them). Production never sets the variable; the
service then counts real working days (R22, R31) with the province's calendar, untouched by this module."""

from __future__ import annotations

from datetime import datetime, timedelta

from xueji_contracts.calendar import WorkingDayCalendar
from xueji_contracts.messages.transfer import StageDeadline


class SecondsCalendar:
    """Stage deadlines `working_days` x `seconds` after opening, warned `warning_lead` x `seconds` earlier; calendar
    months (R32 paper file, R33 rollback) stay the real calendar's."""

    def __init__(self, base: WorkingDayCalendar, seconds: float) -> None:
        self._base = base
        self._day = timedelta(seconds=seconds)
        self.version = f"{base.version}+test-working-day-{seconds:g}s"

    def stage_deadline(self, opened_at: datetime, working_days: int, warning_lead: int) -> StageDeadline:
        due_at = opened_at + working_days * self._day
        return StageDeadline(
            opened_at=opened_at,
            due_at=due_at,
            warn_at=due_at - warning_lead * self._day,
            calendar_version=self.version,
            provisional=False,
        )

    def month_deadline(self, start: datetime, months: int) -> datetime:
        return self._base.month_deadline(start, months)

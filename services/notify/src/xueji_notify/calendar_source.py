"""The working-day calendar and warning lead of this province: the same ones the transfer timers use (R31)."""

# The policy and calendar files give the base; a notice loaded later through transfer's administration API arrives
# on calendar.notice.v1 and is applied on top of it (calendar_notices), as transfer applies it, so both count with
# the same calendar version. Routes, the aggregator and the service share one ProvinceCalendar and read it afresh each
# time, so a notice applied here is counted with at once.

from __future__ import annotations

from datetime import date

import structlog

from xueji_contracts.calendar import WorkingDayCalendar
from xueji_notify.domain.calendar import WeekdaysOnly, WorkingDays
from xueji_notify.settings import NotifySettings

log = structlog.get_logger("notify.calendar")


class ProvinceCalendar:
    def __init__(
        self,
        calendar: WorkingDays,
        warning_lead: int,
        version: str,
        notice_years: tuple[int, ...],
        base: WorkingDayCalendar | None = None,
    ) -> None:
        self.calendar = calendar
        self.warning_lead = warning_lead
        self.version = version
        self.notice_years = notice_years
        self.base = base  # what notices loaded at run time apply to (None: weekdays only, they cannot be applied)

    def is_provisional(self, day: date) -> bool:
        return day.year not in self.notice_years

    def use(self, calendar: WorkingDayCalendar) -> None:
        """Count with `calendar` from now on (the base with the notices loaded at run time)."""
        if calendar.version != self.version:
            log.info("calendar_loaded", version=calendar.version)
        self.calendar, self.version, self.notice_years = calendar, calendar.version, calendar.notice_years


def province_calendar(settings: NotifySettings) -> ProvinceCalendar:
    """From the province policy (national notices plus provincial adjustments); weekdays only without one."""
    try:
        from xueji_contracts.calendar import load_calendar
        from xueji_contracts.policy import calendar_for, load_policy
    except ImportError:  # contracts without the policy package: every day is provisional
        log.warning("calendar_missing_weekdays_only")
        return ProvinceCalendar(WeekdaysOnly(), 2, "weekdays-only", ())
    policy = load_policy(settings.policy_file or settings.province)
    national = load_calendar(settings.calendar_file) if settings.calendar_file else None
    calendar = calendar_for(policy, national)
    lead = policy.sla.warning_lead_working_days
    return ProvinceCalendar(calendar, lead, calendar.version, calendar.notice_years, base=calendar)

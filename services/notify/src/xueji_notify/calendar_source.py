"""The working-day calendar and warning lead of this province: the same ones the transfer timers use."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import structlog

from xueji_notify.domain.calendar import WeekdaysOnly, WorkingDays
from xueji_notify.settings import NotifySettings

log = structlog.get_logger("notify.calendar")


@dataclass(frozen=True)
class ProvinceCalendar:
    calendar: WorkingDays
    warning_lead: int
    version: str
    notice_years: tuple[int, ...]

    def is_provisional(self, day: date) -> bool:
        return day.year not in self.notice_years


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
    return ProvinceCalendar(calendar, policy.sla.warning_lead_working_days, calendar.version, calendar.notice_years)

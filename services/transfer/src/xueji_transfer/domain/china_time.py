"""Wall-clock arithmetic in China Standard Time: local dates, end of day (24:00), calendar months."""

from __future__ import annotations

import calendar as _gregorian
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")


def require_aware(at: datetime, name: str = "now") -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return at


def local_date(at: datetime) -> date:
    """The date in China Standard Time (a UTC evening may already be the next day in Beijing)."""
    return require_aware(at).astimezone(CHINA).date()


def end_of_day(day: date) -> datetime:
    """24:00 of `day` in China Standard Time, i.e. 00:00 of the next day."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=CHINA)


def add_months(day: date, months: int) -> date:
    """Same day `months` calendar months later; clamped to the month's last day (Jan 31 + 1 = Feb 28/29)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = _gregorian.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))

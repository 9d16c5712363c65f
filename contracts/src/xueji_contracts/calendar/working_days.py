"""The versioned working-day calendar: national notices plus one province's adjustments (R22, R31)."""

from __future__ import annotations

import hashlib
import json
import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from types import MappingProxyType

from xueji_contracts.calendar.days import CalendarDays
from xueji_contracts.calendar.deadlines import month_deadline, stage_deadline
from xueji_contracts.envelope import PROVINCE_PATTERN
from xueji_contracts.messages.transfer import StageDeadline


class WorkingDayCalendar:
    """Which days are working days, and arithmetic over them; immutable, `with_*` return new calendars.

    Precedence for a day: the province's adjustment, then the year's notice, then Monday-Friday.
    A year without a notice is weekday-only, and deadlines touching it are provisional (R31).
    """

    __slots__ = ("_adjustment", "_notices", "_province", "_version", "_years")

    def __init__(
        self,
        notices: Mapping[int, CalendarDays],
        province: str | None = None,
        adjustment: CalendarDays | None = None,
    ) -> None:
        if province is not None and not _is_province(province):
            raise ValueError(f"province must be a 2-digit division code, got {province!r}")
        self._notices = MappingProxyType({year: days.all_in_year(year) for year, days in notices.items()})
        self._province = province
        self._adjustment = adjustment or CalendarDays()
        self._version = self._compute_version()
        # Sorted ordinals of each year's working days, filled on first use: arithmetic jumps whole
        # years by their length and bisects inside one, instead of walking day by day.
        self._years: dict[int, tuple[int, ...]] = {}

    @property
    def version(self) -> str:
        """Identifies the exact data, e.g. `cn-2004-2026+35.1a2b3c4d`; a deadline records it."""
        return self._version

    @property
    def notice_years(self) -> tuple[int, ...]:
        return tuple(sorted(self._notices))

    def _compute_version(self) -> str:
        content = {
            "notices": {str(y): self._notices[y].content() for y in sorted(self._notices)},
            "adjustment": [self._province, self._adjustment.content()],
        }
        digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:8]
        years = f"{min(self._notices)}-{max(self._notices)}" if self._notices else "none"
        province = f"+{self._province}" if self._province else ""
        return f"cn-{years}{province}.{digest}"

    def with_notice(
        self,
        year: int,
        rest_days: Iterable[date],
        working_days: Iterable[date],
        *,
        names: Mapping[date, str] | None = None,
        source: str | None = None,
    ) -> WorkingDayCalendar:
        """A new calendar with `year`'s notice loaded (replacing any earlier one for that year)."""
        notice = CalendarDays(
            rest_days=frozenset(rest_days), working_days=frozenset(working_days), names=dict(names or {}), source=source
        ).all_in_year(year)
        return WorkingDayCalendar({**self._notices, year: notice}, self._province, self._adjustment)

    def with_adjustment(self, province: str, adjustment: CalendarDays) -> WorkingDayCalendar:
        """A new calendar with `province`'s extra rest / working days (replacing any earlier adjustment)."""
        return WorkingDayCalendar(self._notices, province, adjustment)

    def has_notice(self, year: int) -> bool:
        return year in self._notices

    def holiday_name(self, day: date) -> str | None:
        for days in (self._adjustment, self._notices.get(day.year)):
            if days is not None and day in days.names:
                return days.names[day]
        return None

    def is_working_day(self, day: date) -> bool:
        for days in (self._adjustment, self._notices.get(day.year)):
            if days is None:
                continue
            if day in days.rest_days:
                return False
            if day in days.working_days:
                return True
        return day.weekday() < 5

    def _working_ordinals(self, year: int) -> tuple[int, ...]:
        cached = self._years.get(year)
        if cached is None:
            first = date(year, 1, 1).toordinal()
            cached = tuple(o for o in range(first, date(year, 12, 31).toordinal() + 1) if self._works(o))
            self._years[year] = cached
        return cached

    def _works(self, ordinal: int) -> bool:
        return self.is_working_day(date.fromordinal(ordinal))

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after `start` (before it when n < 0); n == 0 gives `start` itself."""
        if n == 0:
            return start
        year, ordinal = start.year, start.toordinal()
        days = self._working_ordinals(year)
        if n > 0:
            index = bisect_right(days, ordinal) + n - 1  # index of the answer in `days`
            while index >= len(days):
                index -= len(days)
                year += 1
                days = self._working_ordinals(year)
        else:
            index = bisect_left(days, ordinal) + n
            while index < 0:
                year -= 1
                days = self._working_ordinals(year)
                index += len(days)
        return date.fromordinal(days[index])

    def working_days_between(self, a: date, b: date) -> int:
        """Working days d with a < d <= b; the negative count of b < d <= a when b is before a."""
        if b < a:
            return -self.working_days_between(b, a)
        if a.year == b.year:
            days = self._working_ordinals(a.year)
            return bisect_right(days, b.toordinal()) - bisect_right(days, a.toordinal())
        count = len(self._working_ordinals(a.year)) - bisect_right(self._working_ordinals(a.year), a.toordinal())
        count += sum(len(self._working_ordinals(y)) for y in range(a.year + 1, b.year))
        return count + bisect_right(self._working_ordinals(b.year), b.toordinal())

    def is_provisional(self, first: date, last: date) -> bool:
        """Whether any day in [first, last] lies in a year without a loaded notice (R31)."""
        return any(not self.has_notice(y) for y in range(first.year, last.year + 1))

    def stage_deadline(self, opened_at: datetime, working_days: int, warning_lead: int) -> StageDeadline:
        """Due and warning times of a stage opened at `opened_at` (see deadlines.stage_deadline)."""
        return stage_deadline(self, opened_at, working_days, warning_lead)

    def month_deadline(self, start: datetime, months: int) -> datetime:
        """End of a period of `months` calendar months from `start` (see deadlines.month_deadline)."""
        return month_deadline(self, start, months)

    def __repr__(self) -> str:
        return f"WorkingDayCalendar({self._version!r})"


def _is_province(code: str) -> bool:
    return re.fullmatch(PROVINCE_PATTERN, code) is not None

"""Yearly windows in China time: the transfer blackout (R25), progression windows (R26), transfer timing (R27)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from xueji_contracts.calendar import add_months, local_date

MONTH_DAY = r"^\d{2}-\d{2}$"


def _month_day(value: str) -> tuple[int, int]:
    return int(value[:2]), int(value[3:])


class YearlyWindow(BaseModel):
    """Every year from `start` 00:00 to `end` 24:00 China time ("MM-DD"); wraps past New Year when end < start."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: str = Field(pattern=MONTH_DAY, examples=["07-15"])
    end: str = Field(pattern=MONTH_DAY, examples=["08-14"])

    @field_validator("start", "end")
    @classmethod
    def _is_a_real_day(cls, value: str) -> str:
        month, day = _month_day(value)
        date(2000, month, day)  # a leap year, so 02-29 passes; 02-30 or 13-01 raise ValueError
        return value

    def contains(self, at: datetime) -> bool:
        """Whether the instant `at` (timezone-aware) falls in the window, judged on the China date."""
        day = local_date(at, "at")
        today, start, end = (day.month, day.day), _month_day(self.start), _month_day(self.end)
        if start <= end:
            return start <= today <= end
        return today >= start or today <= end


# R25 (003 Q9): the national system stops opening transfers Jul 15 00:00 - Aug 14 24:00 in every province.
NATIONAL_BLACKOUT = YearlyWindow(start="07-15", end="08-14")


class TransferWindows(BaseModel):
    """When transfers may be initiated; the defaults are the national ones of 003 Q9."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # R25: national; cases initiated before the blackout starts carry on, so this gates initiation only.
    # A province file may restate it but not change it (003 Q9 lets provinces prevail only on the progression
    # windows below); RULES: "a province file may override where the seeds say provincial rules prevail".
    blackout: YearlyWindow = NATIONAL_BLACKOUT
    # R26: the Chinese text (Dec 14) is the original; the English translation's Feb 14 is not used.
    progression: tuple[YearlyWindow, ...] = (
        YearlyWindow(start="08-15", end="12-14"),
        YearlyWindow(start="03-01", end="05-31"),
    )

    @field_validator("blackout")
    @classmethod
    def _blackout_is_national(cls, blackout: YearlyWindow) -> YearlyWindow:
        if blackout != NATIONAL_BLACKOUT:
            raise ValueError(
                f"R25: the blackout is national ({NATIONAL_BLACKOUT.start} to {NATIONAL_BLACKOUT.end}, 003 Q9); "
                "a province may not change it (only the progression windows are provincial, R26)"
            )
        return blackout

    def in_blackout(self, at: datetime) -> bool:
        return self.blackout.contains(at)

    def in_progression_window(self, at: datetime) -> bool:
        return any(window.contains(at) for window in self.progression)


class ExcludedSemester(StrEnum):
    FIRST_GRADE_FIRST_SEMESTER = "first_grade_first_semester"
    GRADUATION_GRADE_LAST_SEMESTER = "graduation_grade_last_semester"


class TransferTiming(BaseModel):
    """R27 (Fujian 002 III.4, "generally"): when in the school year a transfer is handled."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    before_semester_end: bool = True
    months_after_semester_start: int = Field(default=1, ge=0)
    excluded_semesters: frozenset[ExcludedSemester] = frozenset()
    keeps_grade: bool = Field(default=True, description="the student joins the same grade; no repeating by transfer")

    def semester_excluded(self, *, first_grade: bool, graduation_grade: bool, semester: Literal[1, 2]) -> bool:
        """Whether transfers are closed in this semester (1 = autumn/first, 2 = spring/last)."""
        if first_grade and semester == 1 and ExcludedSemester.FIRST_GRADE_FIRST_SEMESTER in self.excluded_semesters:
            return True
        return (
            graduation_grade
            and semester == 2
            and ExcludedSemester.GRADUATION_GRADE_LAST_SEMESTER in self.excluded_semesters
        )

    def in_handling_period(self, day: date, semester_start: date, semester_end: date) -> bool:
        """Whether `day` (China date) is in the semester's handling period.

        "Before semester end" reads as any day of the semester up to its last; the month after the
        start matters on its own only for a province that sets before_semester_end to false.
        """
        if self.before_semester_end and semester_start <= day <= semester_end:
            return True
        return semester_start <= day < add_months(semester_start, self.months_after_semester_start)

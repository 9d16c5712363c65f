"""Which semester a China date falls in: the school year by the calendar year it starts in, autumn 1, spring 2.

Rules that exclude a semester (R27 transfers, R40 suspensions) judge it by the day, never by what a school writes,
since only a bureau may except them. No province policy sets its own school calendar, so the halves split at month
boundaries: autumn from 1 August to 31 January, spring from 1 February to 31 July. The winter and summer breaks fall
either side of a boundary; a day in them belongs to the half whose months hold it.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal, NamedTuple

AUTUMN_FROM_MONTH = 8  # the same month a school year's admissions start counting from
SPRING_FROM_MONTH = 2


class Semester(NamedTuple):
    """A semester: `school_year` 2024 is 2024-2025; `half` 1 is autumn (the first), 2 spring (the last)."""

    school_year: int
    half: Literal[1, 2]

    @property
    def last_day(self) -> date:
        """The day before the next semester starts: 31 January for autumn, 31 July for spring."""
        next_from = SPRING_FROM_MONTH if self.half == 1 else AUTUMN_FROM_MONTH
        return date(self.school_year + 1, next_from, 1) - timedelta(days=1)

    def describe(self) -> str:
        name = "autumn" if self.half == 1 else "spring"
        return f"the {name} semester (semester {self.half}) of {self.school_year}-{self.school_year + 1}"


def semester_of(day: date) -> Semester:
    if day.month >= AUTUMN_FROM_MONTH:
        return Semester(day.year, 1)
    if day.month >= SPRING_FROM_MONTH:
        return Semester(day.year - 1, 2)
    return Semester(day.year - 1, 1)

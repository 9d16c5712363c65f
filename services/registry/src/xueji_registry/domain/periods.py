"""School segments, terms and the calendar-month periods the measures count in (R02, R40, R43, R44, R45)."""

from __future__ import annotations

from datetime import date
from enum import IntEnum, StrEnum

from pydantic import BaseModel, ConfigDict, Field

from xueji_contracts.calendar.deadlines import add_months
from xueji_contracts.calendar.semesters import semester_of


class Segment(StrEnum):
    PRIMARY = "primary"
    JUNIOR = "junior"
    SENIOR = "senior"


COMPULSORY = frozenset({Segment.PRIMARY, Segment.JUNIOR})

# Grades are numbered 1-12 across segments; a province with a 5-4 system overrides these.
DEFAULT_GRADUATION_GRADE = {Segment.PRIMARY: 6, Segment.JUNIOR: 9, Segment.SENIOR: 12}

STATUS_FILE_MONTHS = 1  # R02: the file exists within 1 month of admission
SUSPENSION_MONTHS = 12  # R40: one academic year, and one extension of the same length
DROPOUT_RETURN_MONTHS = 12  # R43: resumption within 1 year of dropping out
DEATH_REPORT_MONTHS = 1  # R44
ILLNESS_DROPOUT_MONTHS = 24  # R43: incurable illness after two years of suspension
ABSENCE_DAYS = 14  # R45: 2 weeks of unexcused absence
CONTACT_ATTEMPTS = 2  # R45: "contacted many times": more than once
ABSENCE_REPORT_DAYS = (
    7  # R45: the written report is due within a week of the 2 weeks (our reading; the seed gives none)
)
SCHOOL_YEAR_START = (9, 1)  # the school year starts on 1 September
# R45 "at semester end": the last day of the semester the day falls in, as R27 and R40 split semesters
# (`semester_of`: autumn to 31 January, spring to 31 July; our reading, the seed gives no dates).
ADMISSION_YEAR_FROM_MONTH = 8  # admissions from August count into the school year that starts in September
ROSTER_MONTHS = 1  # R54: annual rosters within 1 month after the school year starts
# R46: graduation is processed while the national system pauses transfers, 15 July to 14 August (003 Q9); a
# submitted graduation roster is reviewed by the county bureau before that window closes.
GRADUATION_WINDOW_END = (8, 14)


class Term(IntEnum):
    FIRST = 1  # autumn
    SECOND = 2  # spring: the graduation grade's last semester


class SchoolTerm(BaseModel):
    """A semester: the school year by the calendar year it starts in (2024 = 2024-2025), and which half."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    school_year: int = Field(ge=2000, le=2099)
    term: Term

    def describe(self) -> str:
        half = "autumn" if self.term is Term.FIRST else "spring"
        return f"the {half} semester of {self.school_year}-{self.school_year + 1}"


def term_of(day: date) -> SchoolTerm:
    """The semester `day` falls in (autumn August to January, spring February to July; contracts' reading)."""
    semester = semester_of(day)
    return SchoolTerm(school_year=semester.school_year, term=Term(semester.half))


def school_year_of(day: date) -> int:
    """The school year (by the calendar year it starts in) an admission or change on `day` belongs to."""
    return day.year if day.month >= ADMISSION_YEAR_FROM_MONTH else day.year - 1


def school_year_start(school_year: int) -> date:
    return date(school_year, *SCHOOL_YEAR_START)


def semester_end(day: date) -> date:
    """The last day of the semester `day` falls in (R45: a migrant dropout's file is handed over by then)."""
    return semester_of(day).last_day


def months_after(day: date, months: int) -> date:
    """The day `months` calendar months later (month-end clamped, Civil Code art. 202)."""
    return add_months(day, months)


def cohort_grade(grade_then: int, then: SchoolTerm, now: SchoolTerm, graduation_grade: int) -> int:
    """The grade a student's original class is in at `now` (R41 "original grade"), capped at graduation."""
    return min(grade_then + max(now.school_year - then.school_year, 0), graduation_grade)

"""R54: which annual rosters a record opens when it is created at, or joins, its school (`rosters_opened_by`)."""

from __future__ import annotations

from datetime import date

from xueji_registry.domain.annual_roster_stream import rosters_opened_by
from xueji_registry.domain.state import StudentStatus


def _record(class_year: int | None, admitted_on: date) -> StudentStatus:
    return StudentStatus.model_construct(school_code="3506020001", class_year=class_year, admitted_on=admitted_on)


def test_r54_a_july_freshman_of_the_coming_class_opens_that_years_roster_beside_this_years():
    """A school enrolling its 2026 class on 20 July 2026 (school year 2025 by the calendar) had no 2026 roster, and
    no R54 deadline for it, until its first record after 1 August: the class's own roster opens with it."""
    pupil = _record(2026, date(2026, 7, 20))
    assert rosters_opened_by(pupil, True, date(2026, 7, 20)) == [("3506020001", 2025), ("3506020001", 2026)]


def test_r54_a_record_of_this_years_class_or_of_none_or_of_a_past_one_opens_this_years_roster_only():
    on = date(2026, 9, 3)
    assert rosters_opened_by(_record(2026, date(2026, 9, 1)), True, on) == [("3506020001", 2026)]
    assert rosters_opened_by(_record(None, date(2019, 9, 1)), True, on) == [("3506020001", 2026)]
    assert rosters_opened_by(_record(2019, date(2019, 9, 1)), True, on) == [("3506020001", 2026)]  # long due


def test_r54_a_record_joining_a_school_opens_this_years_roster_only_whatever_its_class():
    """A transfer in during July lands in the school's current year; the class it was created in is its old school's."""
    assert rosters_opened_by(_record(2026, date(2026, 7, 1)), False, date(2026, 7, 20)) == [("3506020001", 2025)]

"""Which semester a China date falls in (R27, R40): judged by the day, so a school's form cannot move it."""

from __future__ import annotations

from datetime import date

import pytest

from xueji_contracts.calendar import Semester, semester_of


@pytest.mark.parametrize(
    ("day", "semester"),
    [
        (date(2024, 8, 1), Semester(2024, 1)),  # admissions count into the school year from August
        (date(2024, 12, 31), Semester(2024, 1)),
        (date(2025, 1, 31), Semester(2024, 1)),  # the winter break's January days stay with the autumn
        (date(2025, 2, 1), Semester(2024, 2)),
        (date(2025, 4, 8), Semester(2024, 2)),  # the graduation grade's last semester of 2024-2025
        (date(2025, 7, 31), Semester(2024, 2)),
    ],
)
def test_r27_r40_the_semester_of_a_day(day: date, semester: Semester) -> None:
    assert semester_of(day) == semester


def test_r27_r40_a_semester_says_which_it_is() -> None:
    assert semester_of(date(2025, 4, 8)).describe() == "the spring semester (semester 2) of 2024-2025"


@pytest.mark.parametrize(
    ("day", "last"),
    [
        (date(2024, 8, 1), date(2025, 1, 31)),  # the summer holiday's August counts into the coming autumn
        (date(2024, 12, 31), date(2025, 1, 31)),
        (date(2025, 1, 31), date(2025, 1, 31)),
        (date(2025, 2, 1), date(2025, 7, 31)),
        (date(2028, 2, 29), date(2028, 7, 31)),
        (date(2025, 7, 31), date(2025, 7, 31)),
    ],
)
def test_r45_a_semester_ends_the_day_before_the_next_one_starts(day: date, last: date) -> None:
    assert semester_of(day).last_day == last

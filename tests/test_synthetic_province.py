"""The synthetic province of the demo and the benchmarks: real counties, valid and distinct ID numbers (R06)."""

from __future__ import annotations

from datetime import date

from stdnum.cn import ric

from bench.synthetic.province import schools, students
from bench.synthetic.regions import FUJIAN_COUNTIES


def test_schools_lie_in_real_fujian_counties_with_a_junior_school_per_pair() -> None:
    found = schools(per_county=2)
    assert len(found) == 2 * len(FUJIAN_COUNTIES)
    assert all(s.county in FUJIAN_COUNTIES and len(s.code) == 10 for s in found)
    assert {s.segment for s in found} == {"primary", "junior"}
    assert found[0].name.startswith(FUJIAN_COUNTIES[found[0].county]) and found[0].name.endswith("小学")


def test_r06_every_child_has_a_valid_distinct_id_number_matching_birth_date_sex_and_county() -> None:
    rows = list(students(schools(per_county=2), per_school=300, seed=7))
    assert len(rows) == 300 * 2 * len(FUJIAN_COUNTIES)
    numbers = [str(r["id_number"]) for r in rows]
    assert len(set(numbers)) == len(numbers)  # distinct persons: dedupe finds no duplicates among them
    for row in rows[:2000]:
        number = str(row["id_number"])
        assert ric.is_valid(number)
        assert ric.get_birth_date(number) == date.fromisoformat(str(row["birth_date"]))
        assert (int(number[16]) % 2 == 1) == (row["gender"] == "male")
        assert number[:6] == str(row["school_code"])[:6]


def test_children_are_of_school_age_for_their_grade_and_named_like_chinese_children() -> None:
    rows = list(students(schools(per_county=2)[:2], per_school=60, seed=3))
    for row in rows:
        born, grade = date.fromisoformat(str(row["birth_date"])), int(str(row["grade"]))
        assert date(2026 - 6 - grade, 9, 1) <= born < date(2026 - 5 - grade, 9, 1)
        assert 2 <= len(str(row["name"])) <= 8
    assert rows == list(students(schools(per_county=2)[:2], per_school=60, seed=3))  # reproducible

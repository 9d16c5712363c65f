"""A synthetic province for the demo (`make run`) and the benchmarks: schools in real counties, and children with
common surnames and given names by frequency, valid resident ID numbers (GB 11643 check character) issued in the
county of their school, born in the year their grade gives, all distinct persons. Seeded and reproducible.

The rows are what a school submits to the registry (POST /v1/students, or a clerk's spreadsheet)."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from bench.synthetic.names import full_name
from bench.synthetic.numbers import id_number_for
from bench.synthetic.regions import FUJIAN_COUNTIES

_ORDINALS = "一二三四五六七八九十"
SEGMENT_GRADES = {"primary": range(1, 7), "junior": range(7, 10)}


@dataclass(frozen=True)
class School:
    code: str  # 10 digits: the county's six, then four
    name: str
    segment: str  # primary or junior

    @property
    def county(self) -> str:
        return self.code[:6]


def schools(counties: Mapping[str, str] = FUJIAN_COUNTIES, per_county: int = 2) -> list[School]:
    """`per_county` schools in every county: primaries numbered 0001.., one junior middle school per pair."""
    found = []
    for county, place in counties.items():
        for n in range(1, per_county + 1):
            junior = n % 2 == 0
            ordinal = _ORDINALS[(n - 1) // 2 % len(_ORDINALS)]
            kind = f"第{ordinal}中学" if junior else f"第{ordinal}实验小学"
            found.append(School(f"{county}{n:04d}", f"{place}{kind}", "junior" if junior else "primary"))
    return found


class Children:
    """Distinct children: an ID number's sequence is never used twice for the same county and birth date."""

    def __init__(self, seed: int = 35, school_year: int = 2026) -> None:
        self.rng = random.Random(seed)
        self.school_year = school_year
        self.issued: Counter[tuple[str, date]] = Counter()

    def born_for(self, grade: int) -> date:
        """Of school age for `grade` on 1 September: six when entering grade 1."""
        first = date(self.school_year - 6 - grade, 9, 1)
        return first + timedelta(days=self.rng.randrange(0, 365))

    def row(self, school: School, grade: int) -> dict[str, object]:
        """One child as the school enrolls them (the registry's enrollment request)."""
        male = self.rng.random() < 0.51
        born = self.born_for(grade)
        county = school.county
        taken = self.issued[(county, born)]
        if taken >= 500:
            raise ValueError(f"more than 500 children of one sex born on {born} in {county}")
        self.issued[(county, born)] += 1
        sequence = taken * 2 + (1 if male else 0)  # odd for boys, even for girls (GB 11643)
        return {
            "school_code": school.code,
            "name": full_name(self.rng, male=male),
            "gender": "male" if male else "female",
            "id_number": id_number_for(county, born, sequence),
            "birth_date": born.isoformat(),
            "grade": grade,
            "school_year": self.school_year,
        }


def students(
    at: list[School],
    per_school: int,
    seed: int = 35,
    school_year: int = 2026,
    grades: range | None = None,
    children: Children | None = None,
) -> Iterator[dict[str, object]]:
    """`per_school` children in each school, spread over its segment's grades (or `grades`); pass `children` to
    keep drawing distinct persons across several calls."""
    children = children or Children(seed, school_year)
    for school in at:
        span = grades or SEGMENT_GRADES[school.segment]
        for n in range(per_school):
            yield children.row(school, span[n % len(span)])

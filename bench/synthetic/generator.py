"""Seeded synthetic student records with labelled duplicates of every kind, for tests and benchmarks."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from bench.synthetic import corruptions as corrupt
from bench.synthetic.corruptions import CorruptionKind
from bench.synthetic.dataset import DuplicatePair, SyntheticDataset
from bench.synthetic.names import full_name
from bench.synthetic.numbers import id_layout_number, resident_id
from bench.synthetic.regions import COUNTIES
from xueji_dedupe.domain.model import CandidateRecord, Gender


class _Builder:
    def __init__(self, rng: random.Random, school_year_start: date) -> None:
        self.rng = rng
        self.school_year_start = school_year_start
        self.numbers: set[str] = set()
        self.count = 0

    def _unique(self, make: Callable[[], str]) -> str:
        # Collisions are rare; redraw instead of letting two children share a number by accident.
        while (number := make()) in self.numbers:
            pass
        self.numbers.add(number)
        return number

    def student_id(self) -> str:
        self.count += 1
        return f"s{self.count:07d}"

    def school(self, county: str) -> str:
        return f"{county}{self.rng.randrange(1, 9):04d}"

    def birth_date(self) -> date:
        # School age: 6 to 18 at the start of the school year.
        latest = self.school_year_start.replace(year=self.school_year_start.year - 6)
        return latest - timedelta(days=self.rng.randrange(12 * 365))

    def status_without_id(self, county: str, born: date) -> str:
        letter = self.rng.choice("LJ")
        return self._unique(lambda: id_layout_number(letter, county, born, self.rng))

    def person(self, *, twin_of: CandidateRecord | None = None) -> CandidateRecord:
        rng = self.rng
        male = rng.random() < 0.5
        county = twin_of.region_code if twin_of else rng.choice(COUNTIES)
        born = twin_of.birth_date if twin_of else self.birth_date()
        name = full_name(rng, male=male)
        if twin_of and "·" not in twin_of.name and "·" not in name:
            # Twins share the surname and often the first given character (王子涵 / 王子轩).
            name = twin_of.name[:-1] + name[-1] if len(twin_of.name) >= 3 else twin_of.name[0] + name[1:]
        has_id = (twin_of.id_number is not None) if twin_of else rng.random() < 0.85
        id_number = self._unique(lambda: resident_id(county, born, male=male, rng=rng)) if has_id else None
        if id_number and rng.random() < 0.75:
            status = "G" + id_number
        elif id_number:
            status = self._unique(lambda: id_layout_number("L", county, born, rng))
        else:
            status = self.status_without_id(county, born)
        # Built without re-validation: every number above is valid by construction (check_character),
        # and validating 100,000 IDs again would triple the time a scale test spends generating.
        return CandidateRecord.model_construct(
            student_id=self.student_id(),
            name=name,
            id_number=id_number,
            birth_date=born,
            gender=Gender.MALE if male else Gender.FEMALE,
            region_code=county,
            school_code=twin_of.school_code if twin_of else self.school(county),
            status_number=status,
        )

    def duplicate(self, original: CandidateRecord, kind: CorruptionKind) -> tuple[CandidateRecord, str] | None:
        """A second record of the same child, or None when this child cannot carry this corruption."""
        rng = self.rng
        changes: dict[str, Any] = {"id_number": None}
        county, detail = original.region_code, ""
        if kind is CorruptionKind.TYPO or kind is CorruptionKind.HOMOPHONE or kind is CorruptionKind.TRADITIONAL:
            change = {"typo": corrupt.typo, "homophone": corrupt.homophone, "traditional": corrupt.traditional}
            result = change[kind.value](original.name, rng)
            if result is None:
                return None
            changes["name"], detail = result
        elif kind is CorruptionKind.SWAPPED_DAY_MONTH:
            swapped = corrupt.swapped_day_month(original.birth_date)
            if swapped is None:
                return None
            changes["birth_date"], detail = swapped, f"{original.birth_date}->{swapped}"
        elif kind is CorruptionKind.MISSING_ID:
            changes["name"] = corrupt.cosmetic(original.name, rng)
            detail = f"name typed {changes['name']!r}"
        elif kind is CorruptionKind.MOVED_COUNTY:
            county = rng.choice([code for code in COUNTIES if code != original.region_code])
            changes["region_code"], detail = county, f"{original.region_code}->{county}"
        elif kind is CorruptionKind.SAME_ID:
            if original.id_number is None:
                return None
            changes["id_number"], detail = original.id_number, "same resident ID, enrolled again"
        changes["student_id"] = self.student_id()
        changes["school_code"] = self.school(county)
        born = changes.get("birth_date", original.birth_date)
        if kind is CorruptionKind.SAME_ID:  # an ID-holder enrolled again gets a temporary number (R03)
            changes["status_number"] = self._unique(lambda: id_layout_number("L", county, born, rng))
        else:
            changes["status_number"] = self.status_without_id(county, born)
        return CandidateRecord.model_validate({**original.model_dump(), **changes}), detail


def generate(
    n_records: int,
    *,
    seed: int,
    duplicate_rate: float = 0.05,
    twin_rate: float = 0.01,
    kinds: tuple[CorruptionKind, ...] = tuple(CorruptionKind),
    school_year_start: date = date(2025, 9, 1),
) -> SyntheticDataset:
    """`n_records` records of which about `duplicate_rate` are labelled duplicates, kinds in turn.

    The same seed gives the same dataset. Twins (same birth date, surname, county and school, both
    with or both without an ID) are hard negatives: two children, never a duplicate.
    """
    rng = random.Random(seed)
    builder = _Builder(rng, school_year_start)
    n_duplicates = round(n_records * duplicate_rate) if kinds else 0
    originals: list[CandidateRecord] = []
    while len(originals) < n_records - n_duplicates:
        twin = originals[-1] if originals and rng.random() < twin_rate else None
        originals.append(builder.person(twin_of=twin))

    duplicates: list[CandidateRecord] = []
    pairs: list[DuplicatePair] = []
    untouched = list(originals)
    rng.shuffle(untouched)
    for i in range(n_duplicates):
        kind = kinds[i % len(kinds)]
        # Some children cannot carry a kind (no day <= 12 to swap, no traditional form): try the next.
        for _ in range(len(untouched)):
            original = untouched.pop()
            made = builder.duplicate(original, kind)
            if made is not None:
                duplicates.append(made[0])
                pairs.append(DuplicatePair(original.student_id, made[0].student_id, kind, made[1]))
                break
            untouched.insert(0, original)
    records = originals + duplicates
    rng.shuffle(records)
    return SyntheticDataset(records=tuple(records), pairs=tuple(pairs))

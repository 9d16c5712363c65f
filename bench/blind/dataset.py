"""The labelled set: a population, its hard non-duplicates (twins, siblings, cousins, namesakes) and duplicates.

Every labelled pair is (a, b): `a` is a record already in the index, `b` the record being created that is checked
against it (a "probe"). A probe is never an `a`, so a harness can index every record that is not a probe and check
the probes. Every person has at most two records, and two records of one person are always a labelled duplicate.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from bench.blind import errors
from bench.blind.people import Child, Population, same_name_rate, weighted

HUNAN_CHILDREN_2010_2020 = 8_500_000  # about 0.8 million births a year in Hunan
DUPLICATE_SHARE = 0.05  # of all records, the second records of a child
SIBLING_PAIRS_SHARE = 0.012
COUSIN_PAIRS_SHARE = 0.010
# Duplicate kinds and their relative weights.
DUPLICATE_KINDS: dict[str, float] = {
    "same_id_reentered": 10,
    "typo_lookalike": 10,
    "typo_homophone": 10,
    "traditional_variant": 8,
    "separator_fullwidth": 7,
    "birth_date_digit": 10,
    "day_month_swap": 7,
    "two_errors": 10,
    "second_id_birth_date": 9,
    "second_id_one_digit": 5,
    "second_id_transposition": 4,
    "guardian_missing": 7,
    "guardian_other_parent": 5,
    "moved_school": 7,
}
# A duplicate made of two slips at once.
TWO_ERRORS = (
    ("typo_homophone", "birth_date_digit"),
    ("typo_lookalike", "day_month_swap"),
    ("typo_homophone", "guardian_missing"),
    ("traditional_variant", "birth_date_digit"),
    ("birth_date_digit", "guardian_other_parent"),
    ("typo_homophone", "moved_school"),
)


@dataclass
class LabelledSet:
    records: list[dict[str, Any]]
    labels: list[dict[str, Any]]
    meta: dict[str, Any]


@dataclass
class _Builder:
    rng: random.Random
    people: Population
    children: list[Child]
    probes: set[int] = field(default_factory=set)
    anchors: set[int] = field(default_factory=set)
    pairs: list[tuple[int, int, str, str, str]] = field(default_factory=list)  # a, b, label, kind, detail
    duplicated: set[int] = field(default_factory=set)  # persons who have their second record
    combos: int = 0  # two-slip duplicates made so far

    def pair(self, a: int, b: int, label: str, kind: str, detail: str = "") -> bool:
        if a in self.probes or b in self.anchors or a == b:
            return False
        self.anchors.add(a)
        self.probes.add(b)
        self.pairs.append((a, b, label, kind, detail))
        return True

    def add(self, child: Child) -> Child:
        child.pid = len(self.children)
        self.children.append(child)
        return child

    # ---- hard non-duplicates
    def twins(self) -> None:
        groups: dict[int, list[Child]] = defaultdict(list)
        for child in self.children:
            if child.births > 1:
                groups[child.birth_group].append(child)
        for members in groups.values():
            kind = "twins" if len(members) == 2 else "triplets"
            *others, last = members
            for other in others:
                self.pair(other.pid, last.pid, "distinct", kind, _names(other, last))

    def relatives(self, kind: str, quota: int) -> None:
        """Siblings (one family, different maternities) or cousins (brothers' families); near names first."""
        by_group: dict[int, list[Child]] = defaultdict(list)
        for child in self.children:
            if not child.minority or kind == "siblings":
                by_group[child.family if kind == "siblings" else child.clan].append(child)
        candidates = []
        for members in by_group.values():
            for i, x in enumerate(members):
                for y in members[i + 1 :]:
                    related = x.birth_group != y.birth_group if kind == "siblings" else x.family != y.family
                    if related:
                        candidates.append((x, y))
        self.rng.shuffle(candidates)
        near = [c for c in candidates if _share_char(*c)][: int(quota * 0.6)]
        rest = [c for c in candidates if not _share_char(*c)]
        taken = 0
        for x, y in near + rest:
            if taken >= quota:
                break
            taken += self.pair(x.pid, y.pid, "distinct", kind, _names(x, y))

    def namesakes(self, quota: int) -> None:
        """Another child of the same name, sex and birth date in the same city: a different family and school."""
        han = [c for c in self.children if not c.minority and c.pid not in self.probes]
        self.rng.shuffle(han)
        made = 0
        for a in han:
            if made >= quota:
                break
            county = a.school[:6] if self.rng.random() < 0.5 else self.people.county(a.school[:4])
            register = county if self.rng.random() < 0.9 else self.people.county()
            father = self.people.adult("male", a.surname)
            mother = self.people.adult("female")
            guardians = weighted(self.rng, [[father, mother], [father], [mother], []], [0.55, 0.2, 0.2, 0.05])
            school = self.people.school(county, a.birth, self.rng.randrange(1000))
            if school == a.school:
                continue
            roll = self.rng.random()
            number = None
            if roll >= 0.5:
                number, _ = self.people.new_id(register, a.birth, a.gender)
            if 0.5 <= roll < 0.75 and a.pid not in self.anchors:
                a.id_number = None  # the one without an ID number is the earlier record
            b = self.add(
                a.copy(
                    id_number=number,
                    register=register,
                    school=school,
                    guardians=list(guardians),
                    family=-1,
                    births=1,
                    birth_group=-1,
                )
            )
            made += self.pair(a.pid, b.pid, "distinct", "namesake_same_birth_date_same_city", "")

    # ---- duplicates
    def duplicates(self, quota: int) -> dict[str, int]:
        kinds = list(DUPLICATE_KINDS)
        total = sum(DUPLICATE_KINDS.values())
        wanted = {k: round(quota * DUPLICATE_KINDS[k] / total) for k in kinds}
        wanted[kinds[0]] += quota - sum(wanted.values())  # the rounding's remainder
        # a child already in a hard pair (a twin, a namesake's earlier record) may have a second record too
        free = [c for c in self.children if c.pid not in self.probes]
        self.rng.shuffle(free)
        made = dict.fromkeys(kinds, 0)
        for kind in kinds:
            self.rng.shuffle(free)  # an earlier kind left at the front the records it could not use
            pool = free
            if kind == "separator_fullwidth":  # transliterated names first; a spaced Han name for a quarter
                minority = [c for c in free if c.minority]
                cut = wanted[kind] * 3 // 4
                pool = minority[:cut] + [c for c in free if not c.minority] + minority[cut:]
            for original in pool:
                if made[kind] >= wanted[kind]:
                    break
                if original.pid in self.duplicated:
                    continue
                copy, detail = self.slip(kind, original)
                if copy is None:
                    continue
                self.duplicated.add(original.pid)
                made[kind] += self.pair_dup(original, self.add(copy), kind, detail)
            free = [c for c in free if c.pid not in self.duplicated]
        return made

    def pair_dup(self, original: Child, copy: Child, kind: str, detail: str) -> bool:
        if original.pid in self.probes:
            return False
        self.anchors.add(original.pid)
        self.probes.add(copy.pid)
        self.pairs.append((original.pid, copy.pid, "duplicate", kind, detail))
        return True

    def slip(self, kind: str, original: Child) -> tuple[Child | None, str]:
        """The second record of `original` for one duplicate kind, or None when the kind cannot apply to it."""
        if kind == "two_errors":
            first, second = TWO_ERRORS[self.combos % len(TWO_ERRORS)]  # each pair of slips in turn
            step = self._one(first, original, original.copy())
            both = self._one(second, original, step) if step is not None else None
            if both is None:
                return None, ""
            self._without_an_id(original, both)
            self.combos += 1
            return both, f"{first}+{second}"
        copy = self._one(kind, original, original.copy())
        if copy is None:
            return None, ""
        if kind == "same_id_reentered":
            if original.id_number is None:
                return None, ""
            if self.rng.random() < 0.5:
                copy.school = self._another_school(original, same_county=self.rng.random() < 0.5)
            return copy, ""
        if kind == "second_id_birth_date":
            same = str(original.id_number)[14:17] == str(copy.id_number)[14:17]
            return copy, "same_sequence" if same else "new_sequence"
        if not kind.startswith("second_id"):
            self._without_an_id(original, copy)
        return copy, ""

    def _one(self, kind: str, original: Child, copy: Child) -> Child | None:
        rng = self.rng
        surname_length = len(original.surname)
        if kind == "same_id_reentered":
            return copy
        if kind in ("typo_lookalike", "typo_homophone", "traditional_variant", "separator_fullwidth"):
            if kind == "typo_lookalike":
                name = errors.lookalike(rng, copy.name, surname_length)
            elif kind == "typo_homophone":
                name = errors.homophone(rng, copy.name, surname_length)
            elif kind == "traditional_variant":
                name = errors.traditional(rng, copy.name)
            else:
                name = errors.separator(rng, copy.name, surname_length)
            if name is None or name == copy.name:
                return None
            copy.name = name
            return copy
        if kind in ("birth_date_digit", "day_month_swap"):
            day = (
                errors.date_digit(rng, copy.birth) if kind == "birth_date_digit" else errors.day_month_swap(copy.birth)
            )
            if day is None:
                return None
            copy.birth = day
            return copy
        if kind.startswith("second_id"):
            return self._second_id(kind, original, copy)
        if kind == "guardian_missing":
            if not original.guardians:
                return None
            copy.guardians = []
            return copy
        if kind == "guardian_other_parent":
            parents = [g for g in original.guardians if g not in ("",)]
            if original.minority or len(parents) != 2:
                return None
            original.guardians, copy.guardians = [parents[0]], [parents[1]]
            return copy
        if kind == "moved_school":
            copy.school = self._another_school(original, same_county=False)
            return copy
        raise ValueError(kind)

    def _second_id(self, kind: str, original: Child, copy: Child) -> Child | None:
        if original.id_number is None:
            return None
        if kind == "second_id_birth_date":
            # the first number carried a wrong birth date; the corrected one is a new number
            day = errors.date_digit(self.rng, original.birth) or errors.day_month_swap(original.birth)
            if day is None:
                return None
            copy.birth = day
            # the new number keeps the sequence half the time (when free), else takes the date's next free one
            kept = f"{original.id_number[:6]}{day:%Y%m%d}{original.id_number[14:17]}"
            kept = errors.with_check(kept)
            if self.rng.random() < 0.5 and kept not in self.people.issued:
                self.people.issued.add(kept)
                copy.id_number = kept
            else:
                copy.id_number, _ = self.people.new_id(original.id_number[:6], day, original.gender)
            return copy
        maker = errors.id_one_digit if kind == "second_id_one_digit" else errors.id_transposition
        number = maker(self.rng, original.id_number)
        if number is None or number in self.people.issued:
            return None
        self.people.issued.add(number)
        copy.id_number = number
        return copy

    def _without_an_id(self, original: Child, copy: Child) -> None:
        """A fuzzy duplicate exists because one record has no ID number: the new one, the old one, or both."""
        roll = self.rng.random()
        if roll < 0.60 or original.id_number is None:
            copy.id_number = None
        elif roll < 0.85:
            original.id_number = None
        else:
            original.id_number = copy.id_number = None

    def _another_school(self, original: Child, same_county: bool) -> str:
        for _ in range(20):
            county = original.school[:6] if same_county else self.people.county(original.school[:4])
            if not same_county and self.rng.random() < 0.4:
                county = self.people.county()
            school = self.people.school(county, original.birth, self.rng.randrange(1000))
            if school != original.school:
                return school
        return original.school[:6] + "0099"


def _names(x: Child, y: Child) -> str:
    return f"{x.name}/{y.name}"


def _share_char(x: Child, y: Child) -> bool:
    return bool(set(x.given) & set(y.given)) or (x.minority and y.minority and x.name[-3:] == y.name[-3:])


def generate(records: int = 30_000, seed: int = 20261205) -> LabelledSet:
    rng = random.Random(seed)
    people = Population(rng)
    rate = same_name_rate(random.Random(seed + 1))
    city_share = sum(w * w for w in people.city_weights) / sum(people.city_weights) ** 2
    # expected namesakes of one child in the province: same sex, same name, same birth date, same city
    per_child = (HUNAN_CHILDREN_2010_2020 / 2) * rate * city_share / (11 * 365)
    namesakes = max(1, round(records * per_child))
    duplicates = round(records * DUPLICATE_SHARE)
    base = records - namesakes - duplicates
    while len(people.children) < base:
        people.add_clan()
    del people.children[base:]
    builder = _Builder(rng, people, people.children)
    builder.twins()
    builder.relatives("siblings", round(records * SIBLING_PAIRS_SHARE))
    builder.relatives("cousins", round(records * COUSIN_PAIRS_SHARE))
    builder.namesakes(namesakes)
    made = builder.duplicates(records - len(builder.children))
    order = list(range(len(builder.children)))
    rng.shuffle(order)
    ids = {pid: f"h{rank:06d}" for rank, pid in enumerate(order)}
    out = sorted((c.record(ids[c.pid]) for c in builder.children), key=lambda r: r["record_id"])
    labels = [
        {"a": ids[a], "b": ids[b], "label": label, "kind": kind, "detail": detail}
        for a, b, label, kind, detail in builder.pairs
    ]
    kinds: dict[str, int] = defaultdict(int)
    for lab in labels:
        kinds[f"{lab['label']}:{lab['kind']}"] += 1
    meta = {
        "seed": seed,
        "records": len(out),
        "duplicate_pairs": sum(1 for lab in labels if lab["label"] == "duplicate"),
        "hard_negative_pairs": sum(1 for lab in labels if lab["label"] == "distinct"),
        "pairs_by_kind": dict(sorted(kinds.items())),
        "duplicates_made": made,
        "no_id_share": round(sum(1 for r in out if r["id_number"] is None) / len(out), 4),
        "same_name_rate_same_sex_same_year": rate,
        "namesakes_per_child_in_province": per_child,
        "twin_children_share": round(sum(1 for c in builder.children if c.births > 1) / len(out), 4),
    }
    return LabelledSet(out, labels, meta)

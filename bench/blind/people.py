"""Families of Hunan children born 2010-2020: names, birth dates, ID numbers, household registers, schools, guardians.

Only the population: which records are duplicates or hard non-duplicates is decided in `labels.py`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from itertools import accumulate
from typing import Any

from stdnum.cn import ric

from bench.blind import sources as src

NO_ID_SHARE = 0.03  # children with no obtainable ID number (unregistered births, J numbers): a few per cent
TWIN_MATERNITY = 0.0075  # twin births per maternity: about 1.5 % of children are twins
TRIPLET_MATERNITY = 0.0001
MINORITY_FAMILY_SHARE = 0.012  # migrant Uyghur, Tibetan and Yi families with transliterated names
UNKNOWN_REGISTER_SHARE = 0.10  # household register not typed in


@dataclass
class Child:
    pid: int
    name: str
    gender: str
    birth: date
    id_number: str | None
    register: str | None
    school: str
    guardians: list[str]
    family: int
    clan: int
    births: int = 1  # 2 for a twin, 3 for a triplet
    birth_group: int = -1  # children of one maternity share it
    minority: bool = False
    given: str = ""  # the given name (the part after the surname) of a Han name; "" for a transliterated one
    surname: str = ""

    def record(self, record_id: str) -> dict[str, Any]:
        return {
            "record_id": record_id,
            "name": self.name,
            "gender": self.gender,
            "birth_date": self.birth.isoformat(),
            "id_number": self.id_number,
            "household_register": self.register,
            "school_code": self.school,
            "guardians": list(self.guardians),
        }

    def copy(self, **changes: Any) -> Child:
        return replace(self, **({"guardians": list(self.guardians)} | changes))


def weighted(rng: random.Random, items: list[Any], weights: list[float]) -> Any:
    return rng.choices(items, cum_weights=list(accumulate(weights)))[0]


def period_of(year: int) -> tuple[int, int]:
    return next(p for p in src.PERIODS if p[0] <= year <= p[1])


def id_number(region: str, birth: date, sequence: int) -> str:
    """A valid GB 11643 number: region, birth date, 3-digit sequence (odd for a boy), ISO 7064 MOD 11-2 check."""
    body = f"{region}{birth:%Y%m%d}{sequence:03d}"
    return body + ric.calc_check_digit(body + "0")


@dataclass
class Population:
    rng: random.Random
    children: list[Child] = field(default_factory=list)
    issued: set[str] = field(default_factory=set)
    clans: int = 0
    families: int = 0
    groups: int = 0

    def __post_init__(self) -> None:
        self.surnames = list(src.HUNAN_SURNAMES) + list(src.TAIL_SURNAMES)
        tail = max(0.0, 100.0 - sum(src.HUNAN_SURNAMES.values())) / len(src.TAIL_SURNAMES)
        self.surname_weights = list(src.HUNAN_SURNAMES.values()) + [tail] * len(src.TAIL_SURNAMES)
        self.cities = list(src.HUNAN_CITIES)
        self.city_weights = [src.HUNAN_CITIES[c][0] for c in self.cities]
        self.years = list(src.BIRTHS_MILLIONS)
        self.year_weights = list(src.BIRTHS_MILLIONS.values())

    # ---- places, numbers, names
    def county(self, city: str | None = None) -> str:
        city = city or weighted(self.rng, self.cities, self.city_weights)
        return self.rng.choice(src.HUNAN_CITIES[city][1])

    def school(self, county: str, birth: date, choice: int) -> str:
        """Born 2014 or later: one of the county's primary schools (0001-0020), else a junior one (0021-0030)."""
        return f"{county}{(choice % 20) + 1 if birth.year >= 2014 else 21 + choice % 10:04d}"

    def new_id(self, region: str, birth: date, gender: str, near: int | None = None) -> tuple[str, int]:
        """A fresh ID number; `near` (a twin's sequence) asks for the next free one of the same parity."""
        parity = 1 if gender == "male" else 0
        start = near + 2 if near is not None else self.rng.randrange(0, 998)
        for step in range(500):
            seq = (start + 2 * step) % 1000 if near is not None else self.rng.randrange(0, 1000)
            seq = seq - seq % 2 + parity
            number = id_number(region, birth, seq)
            if number not in self.issued:
                self.issued.add(number)
                return number, seq
        raise RuntimeError("no free sequence number")

    def surname(self) -> str:
        return str(weighted(self.rng, self.surnames, self.surname_weights))

    def adult(self, gender: str, surname: str | None = None, old: bool = False) -> str:
        pool = (src.GRANDPARENT_GIVEN if old else src.ADULT_GIVEN)[gender]
        return (surname or self.surname()) + self.rng.choice(pool)

    def given_name(self, gender: str, year: int, generation: str = "") -> str:
        period = period_of(year)
        if generation:
            return generation + self.rng.choice(src.SECOND_CHARS[period][gender])
        if self.rng.random() < src.ONE_CHAR_SHARE[period]:
            return self.rng.choice(src.ONE_CHAR_NAMES[gender])
        tops = src.TOP_NAMES[period][gender]
        if self.rng.random() < src.TOP_NAME_SHARE:
            # Zipf-like: the first listed names are given far more often
            return str(weighted(self.rng, list(tops), [(rank + 1) ** -0.5 for rank in range(len(tops))]))
        if self.rng.random() < src.PERIOD_CHAR_SHARE / (1 - src.TOP_NAME_SHARE):
            return self.rng.choice(src.FIRST_CHARS[period][gender]) + self.rng.choice(src.SECOND_CHARS[period][gender])
        first = self.rng.choice(src.GENERAL_CHARS[gender] + src.FIRST_CHARS[period][gender])
        return first + self.rng.choice(src.GENERAL_CHARS[gender].replace(first, ""))

    def near_given(self, given: str, gender: str, year: int) -> str:
        """A sibling's or cousin's name sharing one character with `given` (a family's habit, 字辈)."""
        period = period_of(year)
        for _ in range(20):
            if len(given) == 2 and self.rng.random() < 0.7:
                other = given[0] + self.rng.choice(src.SECOND_CHARS[period][gender])
            elif len(given) == 2:
                other = self.rng.choice(src.FIRST_CHARS[period][gender]) + given[1]
            else:
                other = given + self.rng.choice(src.SECOND_CHARS[period][gender])
            if other != given:
                return other
        return self.given_name(gender, year)

    def sound_alike(self, given: str) -> str | None:
        """A twin's name that sounds like `given`: the last character swapped for a homophone (宇晨/宇辰)."""
        for group in src.HOMOPHONES:
            if given[-1] in group:
                others = [c for c in group if c != given[-1]]
                return given[:-1] + self.rng.choice(others)
        return None

    def minority_name(self, ethnicity: str, gender: str, father: str, clan: str) -> str:
        sep = "·" if self.rng.random() < 0.75 else self.rng.choice(src.SEPARATORS)
        if ethnicity == "uyghur":
            return self.rng.choice(src.UYGHUR_GIVEN[gender]) + sep + father
        if ethnicity == "tibetan":
            first, second = self.rng.sample(src.TIBETAN_PARTS[gender], 2)
            return first + sep + second if self.rng.random() < 0.5 else first + second
        return clan + sep + self.rng.choice(src.YI_GIVEN[gender])

    # ---- families
    def birth_years(self) -> list[int]:
        """Birth years of one family's maternities inside 2010-2020: 1 (about half), 2, rarely 3."""
        count = weighted(self.rng, [1, 2, 3], [0.50, 0.42, 0.08])
        first = int(weighted(self.rng, self.years, self.year_weights))
        years = [first]
        for _ in range(count - 1):
            years.append(years[-1] + self.rng.randint(2, 6))
        return [y for y in years if y <= 2020]

    def add_clan(self) -> None:
        """A paternal clan: 1-3 brothers' families, sharing the surname, grandparents and sometimes a 字辈."""
        self.clans += 1
        if self.rng.random() < MINORITY_FAMILY_SHARE:
            self.add_minority_family()
            return
        surname = self.surname()
        home = self.county()
        generation = self.rng.choice(src.FIRST_CHARS[(2014, 2016)]["male"]) if self.rng.random() < 0.25 else ""
        grandparents = [self.adult("male", surname, old=True), self.adult("female", old=True)]
        for _ in range(weighted(self.rng, [1, 2, 3], [0.70, 0.22, 0.08])):
            self.add_family(surname, home, generation, grandparents)

    def add_family(self, surname: str, home: str, generation: str, grandparents: list[str]) -> None:
        self.families += 1
        mother_family = self.surname()
        father, mother = self.adult("male", surname), self.adult("female", mother_family)
        register = home if self.rng.random() < 0.8 else self.county()
        # where the children go to school: mostly the register county, else a county of the same city or Changsha
        roll = self.rng.random()
        lives = register if roll < 0.85 else self.county(register[:4]) if roll < 0.95 else self.county("4301")
        guardians = weighted(
            self.rng,
            [[father, mother], [father], [mother], grandparents[:1], grandparents, []],
            [0.55, 0.15, 0.15, 0.06, 0.04, 0.05],
        )
        choice = self.rng.randrange(1000)
        mother_surname = self.rng.random() < 0.05
        family_names: list[str] = []
        for year in self.birth_years():
            births = 3 if self.rng.random() < TRIPLET_MATERNITY else 2 if self.rng.random() < TWIN_MATERNITY else 1
            birth = date(year, 1, 1) + timedelta(days=self.rng.randrange(365))
            self.groups += 1
            same_sex = self.rng.random() < 2 / 3
            first_gender = self.rng.choice(["male", "female"])
            previous_seq: int | None = None
            for k in range(births):
                gender = first_gender if k == 0 or same_sex else self.rng.choice(["male", "female"])
                given = self.child_given(gender, year, generation, family_names, births, k)
                family_names.append(given)
                child_surname = mother_family if mother_surname else surname
                number: str | None = None
                if self.rng.random() >= NO_ID_SHARE:
                    number, previous_seq = self.new_id(register, birth, gender, previous_seq)
                self.children.append(
                    Child(
                        pid=len(self.children),
                        name=child_surname + given,
                        gender=gender,
                        birth=birth,
                        id_number=number,
                        register=None if self.rng.random() < UNKNOWN_REGISTER_SHARE else register,
                        school=self.school(lives, birth, choice),
                        guardians=list(guardians),
                        family=self.families,
                        clan=self.clans,
                        births=births,
                        birth_group=self.groups,
                        given=given,
                        surname=child_surname,
                    )
                )

    def child_given(self, gender: str, year: int, generation: str, earlier: list[str], births: int, k: int) -> str:
        if k > 0:  # a twin or triplet: sound-alike, one shared character, or unrelated
            roll = self.rng.random()
            if roll < 0.25:
                alike = self.sound_alike(earlier[-1])
                if alike and alike not in earlier:
                    return alike
            if roll < 0.70:
                return self.fresh(lambda: self.near_given(earlier[-1], gender, year), earlier)
            return self.fresh(lambda: self.given_name(gender, year), earlier)
        if earlier and self.rng.random() < 0.35:  # a younger sibling named after the elder
            return self.fresh(lambda: self.near_given(earlier[-1], gender, year), earlier)
        return self.fresh(lambda: self.given_name(gender, year, generation if self.rng.random() < 0.7 else ""), earlier)

    def fresh(self, draw: Any, earlier: list[str]) -> str:
        """Parents do not give two children one name."""
        for _ in range(30):
            name = str(draw())
            if name not in earlier:
                return name
        return str(draw())

    def add_minority_family(self) -> None:
        self.families += 1
        ethnicity = weighted(self.rng, ["uyghur", "tibetan", "yi"], [0.5, 0.2, 0.3])
        birthplace = self.rng.choice(
            {"uyghur": src.UYGHUR_COUNTIES, "tibetan": src.TIBETAN_COUNTIES, "yi": src.YI_COUNTIES}[ethnicity]
        )
        lives = self.county()
        father_given = self.rng.choice(src.UYGHUR_FATHERS)
        clan = self.rng.choice(src.YI_CLANS)
        father = {
            "uyghur": father_given + "·" + self.rng.choice(src.UYGHUR_FATHERS),
            "tibetan": "".join(self.rng.sample(src.TIBETAN_PARTS["male"], 2)),
            "yi": clan + "·" + self.rng.choice(src.YI_GIVEN["male"]),
        }[ethnicity]
        guardians = [father] if self.rng.random() < 0.8 else []
        choice = self.rng.randrange(1000)
        names: list[str] = []
        for year in self.birth_years():
            birth = date(year, 1, 1) + timedelta(days=self.rng.randrange(365))
            self.groups += 1
            gender = self.rng.choice(["male", "female"])
            name = self.fresh(lambda g=gender: self.minority_name(ethnicity, g, father_given, clan), names)
            names.append(name)
            number = None
            if self.rng.random() >= NO_ID_SHARE * 2:
                number, _ = self.new_id(birthplace, birth, gender)
            self.children.append(
                Child(
                    pid=len(self.children),
                    name=name,
                    gender=gender,
                    birth=birth,
                    id_number=number,
                    register=birthplace if self.rng.random() > UNKNOWN_REGISTER_SHARE else None,
                    school=self.school(lives, birth, choice),
                    guardians=list(guardians),
                    family=self.families,
                    clan=self.clans,
                    birth_group=self.groups,
                    minority=True,
                )
            )


def same_name_rate(rng: random.Random, samples: int = 60_000) -> float:
    """P(two children of one sex born the same year have the same full name), by sampling the name model."""
    population = Population(rng)
    counts: dict[str, int] = {}
    for i in range(samples):
        gender = "male" if i % 2 else "female"
        name = population.surname() + population.given_name(gender, 2015)
        counts[gender + name] = counts.get(gender + name, 0) + 1
    per_sex = samples / 2
    return sum(c * (c - 1) for c in counts.values()) / 2 / (2 * per_sex * (per_sex - 1) / 2)

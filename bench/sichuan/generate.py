"""A labelled Sichuan set for the duplicate check (issue 16, R14): children in families and clans, their records,
second records of the same child with the slips issue 16 names, and the hard non-duplicates it names.

Error model (from the issue text only): one slip or two at once in a second record of a child - a homophone, a
look-alike character, a traditional or variant form, another separator in a minority name, one birth-date digit,
day and month swapped, no ID number, no guardians or the other parent, a move to another county; the same ID number
typed again (the one case that refuses); a second ID number (birth-date digits corrected, one digit apart, two
digits swapped). Hard non-duplicates: twins (same guardians and birth date), siblings, cousins (a generation
character in common), namesakes (same full name, birth date and city, different guardians, one without an ID).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from stdnum.cn import ric

from bench.sichuan import tables

Pair = tuple[str, str, str]  # (earlier-created id, later id, kind)


def _weights(text: str) -> tuple[list[str], list[int]]:
    items = [entry.rstrip("0123456789") for entry in text.split()]
    return items, [int(entry[len(item) :]) for entry, item in zip(text.split(), items, strict=True)]


def _coded(text: str) -> tuple[list[str], list[int]]:
    pairs = [entry.split(":") for entry in text.split()]
    return [code for code, _ in pairs], [int(weight) for _, weight in pairs]


def _groups(text: str) -> dict[str, list[str]]:
    """Each character of a group -> the other members."""
    out: dict[str, list[str]] = {}
    for group in text.split():
        for char in group:
            out.setdefault(char, []).extend(c for c in group if c != char and c not in out.get(char, []))
    return out


LOOK_ALIKE = _groups(tables.LOOK_ALIKE)
HOMOPHONES = _groups(tables.HOMOPHONES)
TRADITIONAL = {pair[0]: pair[1] for pair in tables.TRADITIONAL.split() if pair[0] != pair[1]}


@lru_cache(maxsize=4096)
def _county_valid(code: str, year: int) -> bool:
    number = f"{code}{year}0101001"
    try:
        ric.validate(number + ric.calc_check_digit(number + "0"))
    except Exception:
        return False
    return True


def counties(text: str) -> tuple[list[str], list[int]]:
    """The weighted county codes valid for every birth year 2008-2020 (python-stdnum's table)."""
    codes, weights = _coded(text)
    keep = [i for i, code in enumerate(codes) if all(_county_valid(code, y) for y in range(2008, 2021))]
    return [codes[i] for i in keep], [weights[i] for i in keep]


def id_number(county: str, born: date, sequence: int) -> str:
    body = f"{county}{born:%Y%m%d}{sequence:03d}"
    return body + ric.calc_check_digit(body + "0")


@dataclass
class Child:
    key: str
    name: str
    surname: str
    given: str
    born: date
    sex: str
    county: str
    school: str
    guardians: tuple[str, ...]
    father: str
    mother: str
    id_number: str | None
    minority: str | None = None


@dataclass
class SichuanSet:
    records: list[dict[str, Any]]
    duplicates: list[Pair]
    hard_negatives: list[Pair]
    notes: dict[str, Any] = field(default_factory=dict)


class _People:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.surnames = _weights(tables.SURNAMES)
        self.counties = counties(tables.COUNTIES)
        self.liangshan = counties(tables.LIANGSHAN)
        self.tibetan = counties(tables.TIBETAN_COUNTIES)
        self.names = {
            ("male", 0): _weights(tables.BOY_FIRST),
            ("male", 1): _weights(tables.BOY_SECOND),
            ("female", 0): _weights(tables.GIRL_FIRST),
            ("female", 1): _weights(tables.GIRL_SECOND),
        }
        self.used_sequences: set[tuple[str, date, int]] = set()
        self.counter = 0

    def pick(self, table: tuple[list[str], list[int]]) -> str:
        return self.rng.choices(table[0], weights=table[1])[0]

    def surname(self, not_: str = "") -> str:
        while True:
            s = self.pick(self.surnames)
            if s != not_:
                return s

    def given(self, sex: str, generation: str | None = None) -> str:
        if generation is not None:
            return generation + self.pick(self.names[(sex, 1)])
        if self.rng.random() < 0.07:  # one-character given names, rarer every year
            return self.pick(self.names[(sex, self.rng.randrange(2))])
        return self.pick(self.names[(sex, 0)]) + self.pick(self.names[(sex, 1)])

    def adult(self, surname: str, male: bool) -> str:
        pool = tables.ADULT_GIVEN_MALE if male else tables.ADULT_GIVEN_FEMALE
        return surname + self.rng.choice(pool.split())

    def sequence(self, county: str, born: date, sex: str) -> int:
        while True:
            n = self.rng.randrange(1, 999)
            if (n % 2 == 1) != (sex == "male"):
                continue
            if (county, born, n) not in self.used_sequences:
                self.used_sequences.add((county, born, n))
                return n

    def next_key(self) -> str:
        self.counter += 1
        return f"sc-{self.counter:07d}"

    def birth(self) -> date:
        return date(2008, 9, 1) + timedelta(days=self.rng.randrange(365 * 12))

    def school(self, county: str) -> str:
        return f"{county}{self.rng.randrange(1, 40):04d}"

    def child(self, family: dict[str, Any], born: date, sex: str, given: str, *, ids: bool = True) -> Child:
        county = family["county"]
        no_id = self.rng.random() < (0.08 if family["minority"] else 0.035)
        number = None if (no_id or not ids) else id_number(county, born, self.sequence(county, born, sex))
        surname = family["surname"]
        name = self._written(surname, given, family)
        return Child(
            key=self.next_key(), name=name, surname=surname, given=given, born=born, sex=sex, county=county,
            school=family.get("school") or self.school(county), guardians=family["guardians"],
            father=family["father"], mother=family["mother"], id_number=number, minority=family["minority"],
        )  # fmt: skip

    def _written(self, surname: str, given: str, family: dict[str, Any]) -> str:
        if family["minority"] == "yi":
            return f"{surname}·{given}" if self.rng.random() < 0.7 else surname + given
        return surname + given

    def minority(self) -> str | None:
        """A clan's people: Liangshan Yi about 4 %, Ganzi/Aba Tibetan about 1.5 % of children."""
        r = self.rng.random()
        return "yi" if r < 0.04 else "tibetan" if r < 0.055 else None

    def clan_home(self, minority: str | None) -> tuple[str, str]:
        if minority == "yi":
            return self.rng.choice(tables.YI_CLANS.split()), self.pick(self.liangshan)
        if minority == "tibetan":
            return "", self.pick(self.tibetan)
        return self.surname(), self.pick(self.counties)

    def family(self, surname: str, county: str, minority: str | None = None) -> dict[str, Any]:
        if minority == "tibetan":
            father = self.rng.choice(tables.TIBETAN_PARTS.split()) + self.rng.choice(tables.TIBETAN_PARTS.split())
        else:
            father = self.adult(surname, True)
        mother = self.adult(self.surname(not_=surname), False)
        which = self.rng.random()
        guardians: tuple[str, ...] = (
            (father, mother) if which < 0.55 else (father,) if which < 0.7 else (mother,) if which < 0.8
            else (self.adult(surname or self.surname(), True),) if which < 0.88 else ()
        )  # fmt: skip
        return {"surname": surname, "county": county, "father": father, "mother": mother,
                "guardians": guardians, "minority": minority}  # fmt: skip

    def minority_given(self, family: dict[str, Any], sex: str) -> str:
        if family["minority"] == "yi":
            return self.rng.choice(tables.YI_GIVEN.split())
        parts = tables.TIBETAN_PARTS.split()
        return self.rng.choice(parts) + self.rng.choice(parts)


def _record(c: Child, **changes: Any) -> dict[str, Any]:
    row = {
        "student_id": c.key, "name": c.name, "id_number": c.id_number, "birth_date": c.born.isoformat(),
        "gender": c.sex, "region_code": c.county, "school_code": c.school, "guardians": list(c.guardians),
    }  # fmt: skip
    row.update(changes)
    return row


def generate(n_records: int = 12_000, *, seed: int = 51) -> SichuanSet:
    rng = random.Random(seed)
    people = _People(rng)
    children: list[Child] = []
    negatives: list[Pair] = []
    target_children = int(n_records * 0.95)
    while len(children) < target_children:
        minority = people.minority()
        clan_surname, clan_county = people.clan_home(minority)
        shared = rng.choice(tables.GENERATION) if rng.random() < 0.25 and not minority else None
        clan: list[Child] = []
        for _brother in range(rng.choice((1, 1, 1, 2, 2, 3))):
            county = clan_county if rng.random() < 0.7 or minority else people.pick(people.counties)
            fam = people.family(clan_surname, county, minority)
            kids: list[Child] = []
            for _birth in range(rng.choice((1, 1, 1, 2, 2, 3))):
                born = people.birth()
                sex = rng.choice(("male", "female"))
                twins = rng.random() < 0.0075
                taken = {k.given for k in kids}  # parents do not give two of their children one name
                while True:
                    if fam["minority"]:
                        given = people.minority_given(fam, sex)
                    else:
                        given = people.given(sex, shared if shared and rng.random() < 0.8 else None)
                    if given not in taken:
                        break
                fam["school"] = people.school(fam["county"])
                first = people.child(fam, born, sex, given)
                kids.append(first)
                if twins:
                    sex2 = sex if rng.random() < 0.6 else ("female" if sex == "male" else "male")
                    while (given2 := _twin_name(people, fam, given, sex2)) in taken:
                        pass
                    second = people.child(fam, born, sex2, given2)
                    kids.append(second)
                    negatives.append((first.key, second.key, "twins"))
            for i, a in enumerate(kids):
                for b in kids[i + 1 :]:
                    if a.born != b.born:
                        negatives.append((a.key, b.key, "siblings"))
            clan.extend(kids)
        for i, a in enumerate(clan):
            for b in clan[i + 1 :]:
                if a.father != b.father and a.surname == b.surname:
                    near = len(a.given) == len(b.given) == 2 and a.given[0] == b.given[0]
                    negatives.append((a.key, b.key, "cousins_generation_char" if near else "cousins"))
        children.extend(clan)
    # Namesakes at a province's rate: same common name, date, city, different guardians, one without an ID.
    for _ in range(max(1, n_records // 150)):
        a = rng.choice(children)
        if a.minority or a.id_number is None or not a.guardians:
            continue
        city = [x for x in people.counties[0] if x[:4] == a.county[:4]] or [a.county]
        fam = people.family(a.surname, rng.choice(city))
        b = people.child(fam, a.born, a.sex, a.given, ids=False)
        if set(b.guardians) & set(a.guardians) or not b.guardians or not a.guardians:
            b.guardians = (people.adult(a.surname or people.surname(), True), people.adult(people.surname(), False))
        children.append(b)
        negatives.append((a.key, b.key, "namesakes_same_date_city"))

    records = [_record(c) for c in children]
    duplicates: list[Pair] = []
    by_kind: dict[str, int] = {}
    n_duplicates = n_records - len(records)
    kinds = ONE_ERROR + TWO_ERRORS
    attempts = 0
    twice: set[str] = set()
    while len(duplicates) < n_duplicates and attempts < n_duplicates * 50:
        attempts += 1
        kind = kinds[len(duplicates) % len(kinds)]
        original = rng.choice(children)
        if original.key in twice:  # one second record per child: every labelled pair is then the whole truth
            continue
        made = _second_record(people, original, kind)
        if made is None:
            continue
        twice.add(original.key)
        made["student_id"] = people.next_key()
        records.append(made)
        duplicates.append((original.key, made["student_id"], kind))
        by_kind[kind] = by_kind.get(kind, 0) + 1
    # Creation order: originals first, then every record shuffled in; a pair is judged when its later one arrives.
    order = list(range(len(records)))
    rng.shuffle(order)
    position = {records[i]["student_id"]: rank for rank, i in enumerate(order)}
    records = [records[i] for i in order]

    def ordered(pairs: list[Pair]) -> list[Pair]:
        return [(a, b, k) if position[a] < position[b] else (b, a, k) for a, b, k in pairs]

    hard: dict[str, int] = {}
    for _, _, k in negatives:
        hard[k] = hard.get(k, 0) + 1
    return SichuanSet(
        records=records, duplicates=ordered(duplicates), hard_negatives=ordered(negatives),
        notes={"seed": seed, "duplicate_kinds": by_kind, "hard_negative_kinds": hard,
               "children_without_id": sum(c.id_number is None for c in children)},
    )  # fmt: skip


def _twin_name(people: _People, fam: dict[str, Any], given: str, sex: str) -> str:
    rng = people.rng
    if fam["minority"]:
        while (other := people.minority_given(fam, sex)) == given:
            pass
        return other
    r = rng.random()
    if len(given) == 2 and r < 0.25 and HOMOPHONES.get(given[1]):  # sound-alike twins (宇晨/宇辰)
        return given[0] + rng.choice(HOMOPHONES[given[1]])
    if len(given) == 2 and r < 0.7:  # the first character in common
        while (other := given[0] + people.pick(people.names[(sex, 1)])) == given:
            pass
        return other
    while (other := people.given(sex)) == given:
        pass
    return other


ONE_ERROR = (
    "same_id", "homophone", "look_alike", "traditional", "separator", "date_digit", "day_month_swap",
    "no_id", "no_guardians", "other_parent", "moved_county", "second_id_birth_date", "second_id_one_digit",
    "second_id_transposed",
)  # fmt: skip
TWO_ERRORS = (
    "homophone+date_digit", "look_alike+date_digit", "look_alike+no_guardians", "traditional+day_month_swap",
    "homophone+moved_county", "separator+date_digit", "look_alike+other_parent",
)  # fmt: skip


def _second_record(people: _People, c: Child, kind: str) -> dict[str, Any] | None:
    rng = people.rng
    row = _record(c)
    if kind.startswith("second_id") or kind == "same_id":
        return _second_number(people, c, kind, row)
    if c.id_number is not None:  # the fuzzy slips are found only where one side has no ID
        if rng.random() < 0.7:
            row["id_number"] = None
        else:
            return None
    for slip in kind.split("+"):
        if not _slip(people, c, slip, row):
            return None
    return row


def _slip(people: _People, c: Child, slip: str, row: dict[str, Any]) -> bool:
    rng = people.rng
    if slip in ("homophone", "look_alike", "traditional"):
        table = {"homophone": HOMOPHONES, "look_alike": LOOK_ALIKE}.get(slip)
        name = row["name"]
        start = len(name) - len(c.given)
        spots = [i for i in range(start, len(name)) if (table.get(name[i]) if table else name[i] in TRADITIONAL)]
        if not spots:
            return False
        i = rng.choice(spots)
        new = rng.choice(table[name[i]]) if table else TRADITIONAL[name[i]]
        row["name"] = name[:i] + new + name[i + 1 :]
        return True
    if slip == "separator":
        if not c.minority or "·" not in row["name"]:
            return False
        row["name"] = row["name"].replace("·", rng.choice(tables.SEPARATORS[1:]))
        return True
    if slip == "date_digit":
        return _date_digit(rng, row)
    if slip == "day_month_swap":
        born = date.fromisoformat(row["birth_date"])
        if born.day > 12 or born.day == born.month:
            return False
        row["birth_date"] = date(born.year, born.day, born.month).isoformat()
        return True
    if slip == "no_id":
        row["id_number"] = None
        return c.id_number is not None or True
    if slip == "no_guardians":
        if not row["guardians"]:
            return False
        row["guardians"] = []
        return True
    if slip == "other_parent":
        listed = set(row["guardians"])
        if listed == {c.father} or listed == {c.father, c.mother}:
            row["guardians"] = [c.mother]
        elif listed == {c.mother}:
            row["guardians"] = [c.father]
        else:
            return False
        return True
    if slip == "moved_county":
        others = [x for x in people.counties[0] if x != c.county]
        county = rng.choice(others)
        row["region_code"] = county if rng.random() < 0.5 else c.county
        row["school_code"] = people.school(county)
        return True
    raise ValueError(slip)


def _date_digit(rng: random.Random, row: dict[str, Any]) -> bool:
    born = date.fromisoformat(row["birth_date"])
    digits = list(f"{born:%Y%m%d}")
    for _ in range(20):
        i = rng.choice((3, 4, 5, 6, 7))  # a year's last digit, month or day
        d = list(digits)
        d[i] = str(rng.randrange(10))
        if d == digits:
            continue
        try:
            new = date(int("".join(d[:4])), int("".join(d[4:6])), int("".join(d[6:])))
        except ValueError:
            continue
        if date(2008, 1, 1) <= new <= date(2020, 12, 31):
            row["birth_date"] = new.isoformat()
            return True
    return False


def _second_number(people: _People, c: Child, kind: str, row: dict[str, Any]) -> dict[str, Any] | None:
    rng = people.rng
    if c.id_number is None:
        return None
    if kind == "same_id":
        row["school_code"] = people.school(c.county)  # entered again at another school
        return row
    body = c.id_number[:17]
    if kind == "second_id_birth_date":
        row2: dict[str, Any] = {"birth_date": row["birth_date"]}
        if not _date_digit(rng, row2):
            return None
        new = date.fromisoformat(row2["birth_date"])
        row["birth_date"] = new.isoformat()
        new_body = f"{body[:6]}{new:%Y%m%d}{body[14:17]}"
    elif kind == "second_id_one_digit":
        i = rng.choice((14, 15))  # a sequence digit mis-issued (the parity digit 16 keeps the sex)
        new_body = body[:i] + str((int(body[i]) + rng.randrange(1, 10)) % 10) + body[i + 1 :]
    else:
        spots = [i for i in (14, 15) if body[i] != body[i + 1]]
        if not spots:
            return None
        i = rng.choice(spots)
        new_body = body[:i] + body[i + 1] + body[i] + body[i + 2 :]
    number = new_body + ric.calc_check_digit(new_body + "0")
    try:
        ric.validate(number)
    except Exception:
        return None
    row["id_number"] = number
    return row

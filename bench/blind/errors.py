"""How a second record of the same child comes out different: the clerk's slips, one function per slip.

Each returns the changed value, or None when the slip cannot happen to this value (no such character, no such date).
"""

from __future__ import annotations

import random
from datetime import date

from bench.blind import sources as src
from xueji_contracts.identity import InvalidResidentId, validate_resident_id

_SOUND: dict[str, list[str]] = {}
for _group in src.HOMOPHONES:
    for _char in _group:
        _SOUND.setdefault(_char, []).extend(c for c in _group if c != _char and c not in _SOUND[_char])
SEPARATOR_CHARS = set(src.SEPARATORS)


def _swap_one(rng: random.Random, name: str, given_from: int, table: dict[str, list[str]]) -> str | None:
    """Replace one character: of the given name (from `given_from`) nine times in ten, else of the surname."""
    given = [i for i in range(given_from, len(name)) if name[i] in table]
    family = [i for i in range(given_from) if name[i] in table]
    spots = family if family and (not given or rng.random() < 0.1) else given
    if not spots:
        return None
    i = rng.choice(spots)
    return name[:i] + rng.choice(table[name[i]]) + name[i + 1 :]


def homophone(rng: random.Random, name: str, surname_length: int) -> str | None:
    return _swap_one(rng, name, surname_length, _SOUND)


def lookalike(rng: random.Random, name: str, surname_length: int) -> str | None:
    return _swap_one(rng, name, surname_length, {k: [v] for k, v in src.LOOKALIKES.items()})


def traditional(rng: random.Random, name: str) -> str | None:
    """Traditional or variant forms: every convertible character half the time, else one."""
    spots = [i for i, c in enumerate(name) if c in src.TRADITIONAL]
    if not spots:
        return None
    chosen = spots if rng.random() < 0.5 else [rng.choice(spots)]
    return "".join(src.TRADITIONAL[c] if i in chosen else c for i, c in enumerate(name))


def separator(rng: random.Random, name: str, surname_length: int) -> str | None:
    """Another separator inside a transliterated name (or none); a space, maybe full-width, inside a Han name."""
    inside = [i for i, c in enumerate(name) if c in SEPARATOR_CHARS]
    if inside:
        i = inside[0]
        other = rng.choice([s for s in src.SEPARATORS if s != name[i]] + [""])
        return name[:i] + other + name[i + 1 :]
    if surname_length:
        return name[:surname_length] + rng.choice([" ", "　", "  "]) + name[surname_length:]
    return None


def _valid(day: date | None) -> bool:
    return day is not None and date(2009, 1, 1) <= day <= date(2021, 12, 31)


def _date(text: str) -> date | None:
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


def date_digit(rng: random.Random, day: date) -> date | None:
    """One digit of YYYYMMDD mistyped: the day's digits most often, then the month's, then the year's last."""
    text = f"{day:%Y%m%d}"
    for _ in range(30):
        i = rng.choices([3, 4, 5, 6, 7], weights=[2, 1, 2, 2, 3])[0]
        digit = rng.choice([d for d in "0123456789" if d != text[i]])
        typo = _date(text[:i] + digit + text[i + 1 :])
        if _valid(typo):
            return typo
    return None


def day_month_swap(day: date) -> date | None:
    if day.day > 12 or day.day == day.month:
        return None
    return date(day.year, day.day, day.month)


def _valid_id(number: str) -> bool:
    """Valid for the registry (R06) and born in a school-age year: a slip the check character cannot catch."""
    try:
        validate_resident_id(number)
    except InvalidResidentId:
        return False
    return _valid(_date(number[6:14]))


def with_check(first17: str) -> str:
    """17 digits and their GB 11643 check character."""
    from stdnum.cn import ric

    return first17 + ric.calc_check_digit(first17 + "0")


def id_one_digit(rng: random.Random, number: str) -> str | None:
    """A second valid number one digit away from `number` (its check character follows), same sex digit parity."""
    for _ in range(60):
        i = rng.randrange(17)
        digit = rng.choice([d for d in "0123456789" if d != number[i]])
        if i == 16 and int(digit) % 2 != int(number[16]) % 2:
            continue
        other = with_check(number[:i] + digit + number[i + 1 : 17])
        if _valid_id(other):
            return other
    return None


def id_transposition(rng: random.Random, number: str) -> str | None:
    """A second valid number with two neighbouring digits swapped (its check character follows)."""
    spots = [i for i in range(16) if number[i] != number[i + 1]]
    rng.shuffle(spots)
    for i in spots:
        first17 = number[:i] + number[i + 1] + number[i] + number[i + 2 : 17]
        if int(first17[16]) % 2 != int(number[16]) % 2:
            continue
        other = with_check(first17)
        if _valid_id(other):
            return other
    return None

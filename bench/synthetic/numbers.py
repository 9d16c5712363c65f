"""Synthetic identifying numbers: valid resident IDs and L/J status numbers in the ID layout (R03, R06)."""

from __future__ import annotations

import random
from datetime import date

from xueji_contracts.identity import check_character


def id_number_for(region: str, born: date, sequence: int) -> str:
    """The valid ID with this region, birth date and 3-digit sequence (odd for men, even for women)."""
    first17 = f"{region}{born:%Y%m%d}{sequence:03d}"
    return first17 + check_character(first17)


def resident_id(region: str, born: date, *, male: bool, rng: random.Random) -> str:
    """A random valid ID whose 17th digit agrees with the gender."""
    return id_number_for(region, born, rng.randrange(0, 500) * 2 + (1 if male else 0))


def id_layout_number(letter: str, region: str, born: date, rng: random.Random) -> str:
    """An L or J number: the ID layout with a check character, but no correspondence to a real ID (R03)."""
    return letter + id_number_for(region, born, rng.randrange(1000))

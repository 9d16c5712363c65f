"""Status numbers (R03-R05): L temporary and J numbers in ID-number format, and G = "G" + resident ID."""

from __future__ import annotations

import re
from datetime import date, timedelta
from enum import StrEnum

from xueji_contracts.identity import check_character, validate_resident_id
from xueji_registry.domain.errors import Refused

# L and J bodies use 19th-century "birth dates": an ID-format number that can never equal the ID number
# of a living student, so a temporary number cannot be mistaken for (or collide with) a real identity.
_FIRST_DAY = date(1800, 1, 1)
_DAYS = (date(1899, 12, 31) - _FIRST_DAY).days + 1
_PER_DAY = 999  # sequence parts 001-999
CAPACITY = _DAYS * _PER_DAY  # numbers per county and kind
# Counters are taken in blocks (allocation.Sequences.take_many) from the upper half of a county's numbers: those
# taken one at a time before (from 1, by earlier versions) are never given again, also while a replica of such a
# version runs beside this one during an upgrade. 18 million blocks' worth per county and kind.
BLOCK_COUNTERS_FROM = CAPACITY // 2 + 1

_COUNTY = re.compile(r"^\d{6}$")
_SHAPE = re.compile(r"^[GLJ]\d{17}[\dX]$")


class NumberKind(StrEnum):
    FORMAL = "G"
    TEMPORARY = "L"
    NO_ID = "J"


def _id_format_body(county: str, counter: int) -> str:
    if not _COUNTY.match(county):
        raise Refused("R03", f"county code must be 6 digits, got {county!r}", field="county")
    if not 1 <= counter <= CAPACITY:
        raise Refused("R03", f"allocation counter must be 1..{CAPACITY}, got {counter}", field="counter")
    day, sequence = divmod(counter - 1, _PER_DAY)
    born = _FIRST_DAY + timedelta(days=day)  # digits, not strftime: a bulk import numbers hundreds a second
    first17 = f"{county}{born.year:04d}{born.month:02d}{born.day:02d}{sequence + 1:03d}"
    return first17 + check_character(first17)


def temporary_number(county: str, counter: int) -> str:
    """The L number for the `counter`-th allocation in `county`: a bijection, so distinct counters never collide.

    The caller's store guarantees each counter is used once (an insert into a unique index).
    """
    return NumberKind.TEMPORARY + _id_format_body(county, counter)


def no_id_number(county: str, counter: int) -> str:
    """The J number for a student with no obtainable ID number: the same coding rule as L (003 Q5)."""
    return NumberKind.NO_ID + _id_format_body(county, counter)


def formal_number(id_number: str) -> str:
    """G = "G" + the (validated) resident ID number."""
    return NumberKind.FORMAL + validate_resident_id(id_number)


def kind_of(number: str) -> NumberKind:
    """The kind of a well-formed status number; Refused names what is wrong otherwise."""
    if not _SHAPE.match(number):
        raise Refused("R03", f"{number!r} is not a status number (G, L or J + 18 ID-format characters)")
    if check_character(number[1:18]) != number[18]:
        raise Refused("R03", f"{number!r} has a wrong check character (GB 11643)")
    return NumberKind(number[0])

"""Resident ID numbers (GB 11643) and their masking: validation for R06, masking for R52."""

from __future__ import annotations

import functools
import re
import unicodedata
from datetime import date
from typing import Any

from stdnum import exceptions as stdnum_errors
from stdnum.cn import ric

_SHAPE = re.compile(r"^\d{17}[\dX]$")
# An 18-character resident ID, alone or inside a status number such as "G" + ID.
_ID_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])([GJLgjl]?)(\d{6})(\d{8})(\d{3}[\dXx])(?![0-9A-Za-z])")


class InvalidResidentId(ValueError):
    """An ID number failed validation; `reason` says which part (length, region, birth date, check)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@functools.lru_cache(maxsize=8192)
def validate_resident_id(value: str) -> str:
    """The compact ID number if it is a valid 18-character GB 11643 number, else InvalidResidentId.

    Parts are checked in the order a clerk can act on: shape, birth date, region, check character. Remembered for the
    last 8,192 valid numbers (an invalid one raises, which is not remembered): every model that carries a number
    checks it, so a student enrolled from a class upload had it checked about ten times in a few milliseconds (the
    row, its request, identity, check, record and messages; 6% of the registry's CPU in a bulk import).
    """
    number: str = ric.compact(_typed(value)).upper()
    if len(number) != 18:
        raise InvalidResidentId("must be 18 characters (15-character numbers are no longer issued)")
    if not _SHAPE.match(number):
        raise InvalidResidentId("must be 17 digits followed by a digit or X")
    try:
        _born(number)
    except ValueError:
        raise InvalidResidentId(f"birth date {number[6:14]} is not a valid date") from None
    if not _is_region(number[:6], number[6:10]):
        raise InvalidResidentId(f"region code {number[:6]} is not an administrative division")
    if ric.calc_check_digit(number) != number[17]:
        raise InvalidResidentId("check character does not match (GB 11643, ISO 7064 MOD 11-2)")
    return number


def _typed(value: str) -> str:
    """The characters of an ID number as a clerk meant them: full-width forms folded (NFKC: １ and Ｘ are 1 and X),
    spaces of any kind, hyphens between the parts and invisible format characters (zero-width space, byte-order
    mark) that a paste from a web page or a Word table brings along dropped. What is left is checked in full, so
    nothing here can make a wrong number pass."""
    folded = unicodedata.normalize("NFKC", value)
    return "".join(c for c in folded if not (c.isspace() or c == "-" or unicodedata.category(c) == "Cf"))


@functools.lru_cache(maxsize=16384)
def _is_region(code: str, year: str) -> bool:
    """Whether the six digits were an administrative division in that birth year (stdnum's table, which dates the
    divisions), looked up once per county and year instead of once per ID number of a class."""
    try:
        ric.get_birth_place(f"{code}{year}01010000")
    except (stdnum_errors.ValidationError, KeyError):
        # stdnum raises KeyError for six digits under a known city that name no county (e.g. 359999)
        return False
    return True


def birth_date_of(id_number: str) -> date:
    """The birth date encoded in a (validated) ID number."""
    return _born(validate_resident_id(id_number))


def _born(number: str) -> date:
    """The birth date of a compact 18-character number, read as stdnum's `ric.get_birth_date` reads it, without
    cleaning the number again: stdnum cleans what it is given character by character in each function, so a new
    number was cleaned three times for its check and its birth date (20.6 -> 13.7 us a number, check and birth date)."""
    return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def check_character(first17: str) -> str:
    """The GB 11643 check character for 17 digits: used to build L and J numbers in ID format."""
    # stdnum computes over the first 17 characters of an 18-character number; the 18th is ignored.
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError("first17 must be 17 digits")
    result: str = ric.calc_check_digit(first17 + "0")
    return result


def mask_id_number(value: str) -> str:
    """Keep the region (first 6) and the last 4 characters, hide the birth date and sequence.

    A status number ("G"/"J"/"L" + 18 characters) keeps its letter: G110105********002X.
    """
    if len(value) == 19 and value[0] in "GJL":
        return value[0] + mask_id_number(value[1:])
    if len(value) < 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_in_text(text: str) -> str:
    """Mask every ID number (bare or inside a G/J/L status number) found in free text."""
    return _ID_IN_TEXT.sub(lambda m: f"{m[1]}{m[2]}{'*' * 8}{m[4]}", text)


def mask_in_document(value: Any) -> Any:
    """`mask_in_text` applied to every string of a JSON-like document (dicts, lists, strings), keys kept."""
    if isinstance(value, str):
        return mask_in_text(value)
    if isinstance(value, dict):
        return {k: mask_in_document(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_in_document(v) for v in value]
    return value

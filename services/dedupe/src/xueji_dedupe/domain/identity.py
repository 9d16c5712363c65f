"""The exact rule: which numbers identify a person, so that one person gets one number (R01, R03, R06)."""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache

from xueji_contracts.identity import InvalidResidentId, check_character, validate_resident_id

# L (temporary), G (formal, "G" + ID) and J (no obtainable ID) numbers all have the ID layout (R03).
STATUS_NUMBER_PATTERN = re.compile(r"^[GJL]\d{17}[\dX]$")
_COMPACT_ID = re.compile(r"^\d{17}[\dX]$")


class InvalidIdNumber(ValueError):
    """An identifying number failed validation; `field` names the input, `reason` says what is wrong (R06)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@lru_cache(maxsize=50_000)
def _region_valid_in(region: str, year: str) -> bool:
    # python-stdnum looks the region up in its table (with the years each code was in use) by a
    # linear scan: ~0.5 ms, too slow to rebuild an index of a million records. The answer depends
    # only on region and birth year, so it is asked once per pair, of a probe born on 1 January.
    probe = f"{region}{year}0101001"
    try:
        validate_resident_id(probe + check_character(probe))
    except InvalidResidentId:
        return False
    return True


def _validated(value: str) -> str:
    """validate_resident_id, with a fast path for compact numbers whose region and year are known good.

    Only acceptance is fast: anything the fast path doubts goes to the contracts validator, which
    decides and words the reason.
    """
    number = value.strip().upper()
    if _COMPACT_ID.match(number) and _region_valid_in(number[:6], number[6:10]):
        try:
            date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
        except ValueError:
            pass
        else:
            if check_character(number[:17]) == number[17]:
                return number
    return validate_resident_id(value)


def resident_id(value: str) -> str:
    """The compact resident ID number (GB 11643), or InvalidIdNumber naming `id_number`."""
    try:
        return _validated(value)
    except InvalidResidentId as exc:
        raise InvalidIdNumber("id_number", f"invalid resident ID number: {exc.reason}") from None


def status_number(value: str) -> str:
    """An L/G/J status number in canonical form; a G number's ID part must itself be a valid ID (R03).

    L and J numbers only share the ID layout, with no correspondence to a real ID, so only their
    shape is checked.
    """
    number = value.strip().upper()
    if not STATUS_NUMBER_PATTERN.match(number):
        raise InvalidIdNumber("status_number", "must be G, J or L followed by 17 digits and a digit or X")
    if number[0] == "G":
        try:
            _validated(number[1:])
        except InvalidResidentId as exc:
            raise InvalidIdNumber("status_number", f"the ID part of a G number is invalid: {exc.reason}") from None
    return number


def identity_keys(id_number: str | None, status_number: str | None) -> frozenset[str]:
    """The keys that identify a person exactly: the resident ID, the ID part of a G number, the status number.

    A G number's ID part counts as the ID (R03) even when it differs from the current ID number
    after a number change (R05): both belong to the same person. L and J numbers identify a status,
    not a person, so they match only themselves.
    """
    keys: set[str] = set()
    if id_number:
        keys.add("id:" + id_number)
    if status_number:
        keys.add("status:" + status_number)
        if status_number[0] == "G":
            keys.add("id:" + status_number[1:])
    return frozenset(keys)


def reliable_ids(id_number: str | None, status_number: str | None) -> frozenset[str]:
    """The resident ID numbers known for a person: empty for an L or J student without an ID (R03)."""
    return frozenset(key[3:] for key in identity_keys(id_number, status_number) if key.startswith("id:"))

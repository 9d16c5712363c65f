"""Administrative divisions and schools by their codes (R50): province, city, county, school.

A division code has six digits, two per level: 350000 is Fujian province, 350600 the city of Zhangzhou in it,
350602 a county of that city. A school code is its county's six digits plus a four-digit school number
(3506020001); 000000 stands for the nation, where the Ministry acts. So each level is fixed by a prefix of
the code — nation none, province 2 digits, city 4, county 6, school 10 — and "A contains B" is "B's code
starts with A's prefix". This module is the one place that knows it; nothing else slices codes by hand.

`Division` validates on parse (`Division.parse`, or as a pydantic field type) and is frozen and hashable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Any

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

_CODE = re.compile(r"^(?:\d{6}|\d{10})$")


class InvalidDivision(ValueError):
    """A code that names no province, city, county or school; the message says why."""


class DivisionLevel(StrEnum):
    NATION = "nation"  # 000000: the whole country, where the Ministry acts
    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"
    SCHOOL = "school"


# How many leading digits of a code the level fixes.
_PREFIX_LENGTH = {
    DivisionLevel.NATION: 0,
    DivisionLevel.PROVINCE: 2,
    DivisionLevel.CITY: 4,
    DivisionLevel.COUNTY: 6,
    DivisionLevel.SCHOOL: 10,
}
_DEPTH = {level: depth for depth, level in enumerate(DivisionLevel)}
NATION_CODE = "000000"


def _level_of(code: str) -> DivisionLevel:
    if len(code) == 10:
        return DivisionLevel.SCHOOL
    if code == NATION_CODE:
        return DivisionLevel.NATION
    if code.endswith("0000"):
        return DivisionLevel.PROVINCE
    if code.endswith("00"):
        return DivisionLevel.CITY
    return DivisionLevel.COUNTY


@dataclass(frozen=True, slots=True)
class Division:
    """A province, city, county or school, named by its 6- or 10-digit code."""

    code: str

    @staticmethod
    def parse(code: str) -> Division:
        """The division `code` names; InvalidDivision (a ValueError) saying why when it names none."""
        return _parse(code)

    @staticmethod
    def of_prefix(prefix: str) -> Division:
        """The division whose level fixes exactly `prefix`: "35" province 350000, "3506" city 350600, "350602"
        county, ten digits a school."""
        if prefix == "":
            return _parse(NATION_CODE)
        if not prefix.isdigit() or len(prefix) not in (2, 4, 6, 10):
            raise InvalidDivision(f"{prefix!r} is not the 2-, 4-, 6- or 10-digit prefix of a division")
        division = _parse(prefix if len(prefix) == 10 else prefix.ljust(6, "0"))
        if division.prefix != prefix:
            raise InvalidDivision(f"{prefix!r} ends in zeros that a division at its level does not fix")
        return division

    def __str__(self) -> str:
        return self.code

    @property
    def level(self) -> DivisionLevel:
        return _level_of(self.code)

    @property
    def prefix(self) -> str:
        """The leading digits this division fixes and every division inside it shares: 35, 3506, 350602, or a
        school's ten."""
        return self.code[: _PREFIX_LENGTH[self.level]]

    def at(self, level: DivisionLevel) -> Division:
        """The division at `level` this one lies in (itself at its own level); InvalidDivision below its level."""
        self._at_least(level, level.value)
        if level is DivisionLevel.NATION:
            return _parse(NATION_CODE)
        return _parse(self.code[: _PREFIX_LENGTH[level]].ljust(6, "0"))

    @property
    def province(self) -> Division:
        """The province this division lies in (itself for a province); the nation lies in none."""
        self._at_least(DivisionLevel.PROVINCE, "province")
        return _parse(self.code[:2] + "0000")

    @property
    def city(self) -> Division:
        """The city this division lies in (itself for a city); a province lies in no city."""
        self._at_least(DivisionLevel.CITY, "city")
        return _parse(self.code[:4] + "00")

    @property
    def county(self) -> Division:
        """The county a school or county lies in (its first six digits); a city or province lies in no county.
        A school run directly by a city bureau has its city's code in these digits, so its `county` is that city."""
        self._at_least(DivisionLevel.COUNTY, "county")
        return _parse(self.code[:6])

    @property
    def parent(self) -> Division | None:
        """The division one level up: a province's is the nation, the nation has none."""
        level = self.level
        if level is DivisionLevel.NATION:
            return None
        if level is DivisionLevel.PROVINCE:
            return _parse(NATION_CODE)
        if level is DivisionLevel.SCHOOL:
            return _parse(self.code[:6])
        if level is DivisionLevel.COUNTY:
            return _parse(self.code[:4] + "00")
        return _parse(self.code[:2] + "0000")

    def contains(self, other: Division | str) -> bool:
        """True when `other` is this division or lies inside it (a school code given as text is parsed)."""
        inner = other if isinstance(other, Division) else _parse(other)
        return inner.code.startswith(self.prefix) and _DEPTH[inner.level] >= _DEPTH[self.level]

    def _at_least(self, level: DivisionLevel, name: str) -> None:
        if _DEPTH[self.level] < _DEPTH[level]:
            raise InvalidDivision(f"{self.code} is a {self.level.value}; it lies in no {name}")

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        """As a pydantic field: accepts the code as text (or a Division), validates it, serialises it as text."""
        from_text = core_schema.no_info_after_validator_function(_parse, core_schema.str_schema())
        return core_schema.json_or_python_schema(
            json_schema=from_text,
            python_schema=core_schema.no_info_plain_validator_function(_coerce),
            serialization=core_schema.plain_serializer_function_ser_schema(str, when_used="always"),
        )


@lru_cache(maxsize=65536)
def _parse(code: str) -> Division:
    if not isinstance(code, str) or not _CODE.match(code):
        raise InvalidDivision(f"{code!r} is neither a 6-digit division code nor a 10-digit school code")
    if code.startswith("00") and code != NATION_CODE:
        raise InvalidDivision(f"{code!r}: no province has the number 00")
    return Division(code)


def _coerce(value: object) -> Division:
    if isinstance(value, Division):
        return value
    if not isinstance(value, str):
        raise InvalidDivision(f"a division code is text, not {type(value).__name__}")
    return _parse(value)


def province_prefix(code: str) -> str:
    """The two digits naming the province a school or division code lies in (the form policies and the transfer
    mirror address provinces by); "" for the nation, which lies in no province."""
    division = Division.parse(code)
    return "" if division.level is DivisionLevel.NATION else division.province.prefix

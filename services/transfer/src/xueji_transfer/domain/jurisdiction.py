"""Jurisdiction codes by level and who is next up when a stage breaches (R22, R50).

The codes themselves (what lies in what) are contracts' `Division`; this module maps the transfer's
escalation levels onto it.
"""

from __future__ import annotations

from xueji_contracts.auth import OperatorClaims, Role
from xueji_contracts.division import NATION_CODE, Division, DivisionLevel
from xueji_contracts.messages.transfer import Level

NATIONAL = NATION_CODE  # the Ministry acts for the whole country; it has no division code of its own

_ROLE = {
    Level.SCHOOL: Role.SCHOOL,
    Level.COUNTY: Role.COUNTY,
    Level.CITY: Role.CITY,
    Level.PROVINCE: Role.PROVINCE,
    Level.MINISTRY: Role.MINISTRY,
}
_DIVISION_LEVEL = {
    Level.SCHOOL: DivisionLevel.SCHOOL,
    Level.COUNTY: DivisionLevel.COUNTY,
    Level.CITY: DivisionLevel.CITY,
    Level.PROVINCE: DivisionLevel.PROVINCE,
    Level.MINISTRY: DivisionLevel.NATION,
}
_LEVEL = {division: level for level, division in _DIVISION_LEVEL.items()}


def county_code(code: str) -> str:
    return Division.parse(code).county.code


def city_code(code: str) -> str:
    return Division.parse(code).city.code


def code_at(level: Level, code: str) -> str:
    """The jurisdiction at `level` that contains `code` (a school or division code)."""
    division = Division.parse(code)
    if level is Level.SCHOOL and division.level is not DivisionLevel.SCHOOL:
        raise ValueError(f"{code} is not a school code")
    return division.at(_DIVISION_LEVEL[level]).code


def level_of(code: str) -> Level:
    """The level a code names: 10 digits a school, 350000 a province, 350600 a city, 350602 a county."""
    return _LEVEL[Division.parse(code).level]


def next_up(level: Level, chain: tuple[Level, ...], steps: int = 1) -> Level | None:
    """The level `steps` above `level` in the escalation chain, or None past its top."""
    if level not in chain:
        return None
    index = chain.index(level) + steps
    return chain[index] if index < len(chain) else None


def acts_as(claims: OperatorClaims, level: Level, code: str) -> bool:
    """True when the operator is the party itself: the right role, and its jurisdiction is `code`'s."""
    return claims.role is _ROLE[level] and claims.covers(code) and claims.code == code_at(level, code)

"""Jurisdiction codes by level and who is next up when a stage breaches (R22, R50).

A school code is its county's 6-digit division code plus 4 digits; a county 350602 lies in city
350600 and province 350000, so every level above a code is a prefix padded with zeros.
"""

from __future__ import annotations

from xueji_contracts.auth import OperatorClaims, Role
from xueji_contracts.messages.transfer import Level

NATIONAL = "000000"  # the Ministry acts for the whole country; it has no division code of its own

_ROLE = {
    Level.SCHOOL: Role.SCHOOL,
    Level.COUNTY: Role.COUNTY,
    Level.CITY: Role.CITY,
    Level.PROVINCE: Role.PROVINCE,
    Level.MINISTRY: Role.MINISTRY,
}


def county_code(code: str) -> str:
    return code[:6]


def city_code(code: str) -> str:
    return code[:4] + "00"


def province_code(code: str) -> str:
    return code[:2] + "0000"


def code_at(level: Level, code: str) -> str:
    """The jurisdiction at `level` that contains `code` (a school or division code)."""
    if level is Level.SCHOOL:
        if len(code) != 10:
            raise ValueError(f"{code} is not a school code")
        return code
    if level is Level.COUNTY:
        return county_code(code)
    if level is Level.CITY:
        return city_code(code)
    if level is Level.PROVINCE:
        return province_code(code)
    return NATIONAL


def level_of(code: str) -> Level:
    """The level a code names: 10 digits a school, 350000 a province, 350600 a city, 350602 a county."""
    if len(code) == 10:
        return Level.SCHOOL
    if code == NATIONAL:
        return Level.MINISTRY
    if code.endswith("0000"):
        return Level.PROVINCE
    if code.endswith("00"):
        return Level.CITY
    return Level.COUNTY


def next_up(level: Level, chain: tuple[Level, ...], steps: int = 1) -> Level | None:
    """The level `steps` above `level` in the escalation chain, or None past its top."""
    if level not in chain:
        return None
    index = chain.index(level) + steps
    return chain[index] if index < len(chain) else None


def acts_as(claims: OperatorClaims, level: Level, code: str) -> bool:
    """True when the operator is the party itself: the right role, and its jurisdiction is `code`'s."""
    return claims.role is _ROLE[level] and claims.covers(code) and claims.code == code_at(level, code)

"""Operator claims: role by administrative level and the jurisdiction it acts in (R50).

Jurisdiction codes are 6-digit administrative division codes (350000 province, 350600 city,
350602 county) or 10-digit school codes made of the county's division code and a 4-digit
school number, so containment is a prefix test.
"""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from xueji_contracts.division import province_prefix

DIVISION_CODE = re.compile(r"^\d{6}$")
SCHOOL_CODE = re.compile(r"^\d{10}$")


class Role(StrEnum):
    SCHOOL = "school"
    COUNTY = "county"
    CITY = "city"
    PROVINCE = "province"
    MINISTRY = "ministry"


# How many leading digits of a code a role's jurisdiction fixes.
_PREFIX_LENGTH = {Role.SCHOOL: 10, Role.COUNTY: 6, Role.CITY: 4, Role.PROVINCE: 2, Role.MINISTRY: 0}


def is_jurisdiction_code(code: str) -> bool:
    return bool(DIVISION_CODE.match(code) or SCHOOL_CODE.match(code))


def province_of(code: str) -> str:
    """The two digits of the province a school or division code lies in ("" for the nation's 000000)."""
    return province_prefix(code)


class OperatorClaims(BaseModel):
    """What a verified operator token says: who, at which level, over which jurisdiction."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    sub: str = Field(min_length=1, description="operator id")
    role: Role
    code: str = Field(description="jurisdiction: school code (10 digits) or division code (6 digits)")

    @model_validator(mode="after")
    def _code_fits_role(self) -> OperatorClaims:
        if self.role is Role.SCHOOL and not SCHOOL_CODE.match(self.code):
            raise ValueError("code: a school operator's code is a 10-digit school code")
        if self.role is not Role.SCHOOL and not DIVISION_CODE.match(self.code):
            raise ValueError("code: a bureau operator's code is a 6-digit division code")
        return self

    @property
    def prefix(self) -> str:
        return self.code[: _PREFIX_LENGTH[self.role]]

    def covers(self, target: str) -> bool:
        """True when `target` (a school or division code) lies inside this operator's jurisdiction."""
        if not is_jurisdiction_code(target):
            return False
        if self.role is Role.SCHOOL:
            return target == self.code
        return target.startswith(self.prefix)

    def at_least(self, role: Role) -> bool:
        """True when this operator's level is `role` or above (school < county < ... < ministry)."""
        order = list(Role)
        return order.index(self.role) >= order.index(role)


class SubscriberClaims(BaseModel):
    """What a verified token of another system says (R52): which registered status subscriber it is. It has no role
    and no jurisdiction, so no operator route accepts it; only the routes for subscribers do."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    sub: str = Field(min_length=1)
    subscriber: str = Field(pattern=r"^[a-z][a-z0-9-]{1,40}$", description="its name in status_subscribers")
    province: str | None = Field(
        default=None,
        pattern=r"^[1-8][0-9]$",
        description="the province whose deployment the token is for (two digits); another province's refuses it",
    )

"""Operator claims: role by level, jurisdiction by code containment (R50)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from xueji_contracts.auth import OperatorClaims, Role


def claims(role: str, code: str) -> OperatorClaims:
    return OperatorClaims(sub="op", role=Role(role), code=code)


@pytest.mark.parametrize(
    ("role", "code", "target", "expected"),
    [
        ("school", "3506020001", "3506020001", True),
        ("school", "3506020001", "3506020002", False),
        ("school", "3506020001", "350602", False),
        ("county", "350602", "3506020001", True),
        ("county", "350602", "3506030001", False),
        ("county", "350602", "350602", True),
        ("city", "350600", "3506020001", True),
        ("city", "350600", "350603", True),
        ("city", "350600", "3501020001", False),
        ("province", "350000", "3501020001", True),
        ("province", "350000", "4301020001", False),
        ("ministry", "100000", "4301020001", True),
        ("county", "350602", "not-a-code", False),
    ],
)
def test_r50_operator_acts_only_inside_jurisdiction(role, code, target, expected):
    assert claims(role, code).covers(target) is expected


def test_r50_levels_are_ordered_school_to_ministry():
    county = claims("county", "350602")
    assert county.at_least(Role.SCHOOL)
    assert county.at_least(Role.COUNTY)
    assert not county.at_least(Role.CITY)


@pytest.mark.parametrize(("role", "code"), [("school", "350602"), ("county", "3506020001"), ("county", "35A602")])
def test_r50_code_must_fit_the_role(role, code):
    with pytest.raises(ValidationError, match="code"):
        claims(role, code)

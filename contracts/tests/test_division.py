"""Divisions by code (R50): levels, the divisions above a code, containment, and refusals that say why."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from xueji_contracts.auth import province_of
from xueji_contracts.division import Division, DivisionLevel, InvalidDivision, province_prefix


@pytest.mark.parametrize(
    ("code", "level", "prefix"),
    [
        ("000000", DivisionLevel.NATION, ""),
        ("350000", DivisionLevel.PROVINCE, "35"),
        ("350600", DivisionLevel.CITY, "3506"),
        ("350602", DivisionLevel.COUNTY, "350602"),
        ("3506020001", DivisionLevel.SCHOOL, "3506020001"),
    ],
)
def test_r50_a_code_names_its_level_and_the_prefix_it_fixes(code, level, prefix):
    division = Division.parse(code)
    assert division.level is level
    assert division.prefix == prefix
    assert str(division) == code
    assert Division.of_prefix(prefix) == division


def test_r50_a_school_lies_in_its_county_city_and_province():
    school = Division.parse("3506020001")
    assert school.county.code == "350602"
    assert school.city.code == "350600"
    assert school.province.code == "350000"
    assert school.parent == Division.parse("350602")
    assert school.parent.parent.parent.parent == Division.parse("000000")
    assert Division.parse("000000").parent is None


def test_r50_a_division_lies_in_itself_at_its_own_level():
    assert Division.parse("350600").city.code == "350600"
    assert Division.parse("350602").county.code == "350602"
    assert Division.parse("350000").province.code == "350000"


@pytest.mark.parametrize(("code", "above"), [("350000", "city"), ("350600", "county"), ("000000", "province")])
def test_r50_a_division_higher_than_a_level_lies_in_none_of_it(code, above):
    with pytest.raises(InvalidDivision, match=f"lies in no {above}"):
        getattr(Division.parse(code), above)


@pytest.mark.parametrize(
    ("outer", "inner", "expected"),
    [
        ("350000", "3506020001", True),
        ("350600", "350603", True),
        ("350600", "350600", True),
        ("350602", "3506020001", True),
        ("350602", "3506030001", False),
        ("350600", "350000", False),
        ("350600", "3501020001", False),
        ("3506020001", "3506020001", True),
        ("3506020001", "350602", False),
        ("000000", "4301020001", True),
        ("350000", "000000", False),
    ],
)
def test_r50_contains_is_a_prefix_test_downwards_only(outer, inner, expected):
    assert Division.parse(outer).contains(inner) is expected
    assert Division.parse(outer).contains(Division.parse(inner)) is expected


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("35060", "neither a 6-digit division code nor a 10-digit school code"),
        ("35060a", "neither a 6-digit"),
        ("35060200011", "neither a 6-digit"),
        ("001100", "no province has the number 00"),
    ],
)
def test_r50_a_malformed_code_is_refused_saying_why(code, reason):
    with pytest.raises(InvalidDivision, match=reason):
        Division.parse(code)
    with pytest.raises(ValueError):
        Division.parse(code)


@pytest.mark.parametrize("prefix", ["3", "350", "3500", "350600"])
def test_r50_of_prefix_refuses_what_no_level_fixes_exactly(prefix):
    with pytest.raises(InvalidDivision):
        Division.of_prefix(prefix)


class _Form(BaseModel):
    school: Division


def test_r50_as_a_pydantic_field_a_division_is_validated_text_in_and_out():
    form = _Form.model_validate({"school": "3506020001"})
    assert form.school.county == Division.parse("350602")
    assert form.model_dump(mode="json") == {"school": "3506020001"}
    assert form.model_dump() == {"school": "3506020001"}
    assert _Form.model_validate_json('{"school": "350602"}').school.level is DivisionLevel.COUNTY
    assert _Form(school=Division.parse("350600")).school.level is DivisionLevel.CITY
    assert _Form.model_json_schema()["properties"]["school"]["type"] == "string"
    with pytest.raises(ValidationError) as refused:
        _Form.model_validate({"school": "35-602"})
    error = refused.value.errors()[0]
    assert error["loc"] == ("school",)
    assert "neither a 6-digit division code" in error["msg"]


def test_r50_province_of_names_the_province_digits_and_none_for_the_nation():
    assert province_of("3506020001") == province_prefix("350602") == "35"
    assert province_of("000000") == ""


def test_r50_at_a_level_is_the_division_there_that_holds_the_code():
    school = Division.parse("3506020001")
    assert [school.at(level).code for level in DivisionLevel] == ["000000", "350000", "350600", "350602", "3506020001"]
    with pytest.raises(InvalidDivision, match="350602 is a county; it lies in no school"):
        Division.parse("350602").at(DivisionLevel.SCHOOL)

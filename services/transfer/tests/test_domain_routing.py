"""R53: complaints and cross-jurisdiction cases go to the lowest level covering every party."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xueji_contracts.messages.transfer import Level
from xueji_transfer.domain import route_dispute
from xueji_transfer.domain.jurisdiction import code_at, level_of

ORDER = [Level.SCHOOL, Level.COUNTY, Level.CITY, Level.PROVINCE, Level.MINISTRY]


def test_r53_one_school_routes_to_the_school_or_its_county() -> None:
    route = route_dispute(["3506020001"])
    assert (route.level, route.code) == (Level.SCHOOL, "3506020001")
    assert (route.alternative_level, route.alternative_code) == (Level.COUNTY, "350602")


def test_r53_two_schools_in_one_county_route_to_the_county() -> None:
    route = route_dispute(["3506020001", "3506020002"])
    assert (route.level, route.code) == (Level.COUNTY, "350602")


def test_r53_two_counties_in_one_city_route_to_city() -> None:
    route = route_dispute(["3506020001", "3506030004"])
    assert (route.level, route.code) == (Level.CITY, "350600")


def test_r53_two_cities_in_one_province_route_to_the_province() -> None:
    route = route_dispute(["3506020001", "3501020003"])
    assert (route.level, route.code) == (Level.PROVINCE, "350000")


def test_r53_interprovincial_routes_to_the_ministry() -> None:
    route = route_dispute(["3506020001", "4301020001"])
    assert route.level is Level.MINISTRY


def test_r53_division_codes_count_at_their_own_level() -> None:
    assert route_dispute(["350602"]).level is Level.COUNTY
    assert (route_dispute(["350600", "3506020001"]).level, route_dispute(["350600"]).code) == (Level.CITY, "350600")
    assert route_dispute(["350000", "3501020003"]).level is Level.PROVINCE


@pytest.mark.parametrize("codes", [[], ["35060"], ["abcdefghij"]])
def test_r53_needs_valid_codes(codes: list[str]) -> None:
    with pytest.raises(ValueError, match="codes"):
        route_dispute(codes)


schools = st.from_regex(r"(35|43)0[1-3]0[1-3]\d{4}", fullmatch=True)


@given(st.lists(schools, min_size=1, max_size=5))
def test_r53_the_route_covers_every_party_and_no_lower_level_would(codes: list[str]) -> None:
    route = route_dispute(codes)
    if route.level is not Level.MINISTRY:
        assert {code_at(route.level, c) for c in codes} == {route.code}
        assert level_of(route.code) is route.level
    lower = ORDER[: ORDER.index(route.level)]
    assert all(len({code_at(level, c) for c in codes}) > 1 for level in lower)

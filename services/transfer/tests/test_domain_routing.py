"""R53: complaints and cross-jurisdiction cases go to the lowest level covering every party."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xueji_contracts.messages.transfer import Level
from xueji_contracts.policy import ComplaintChannel, Complaints, PolicyError, load_policy, parse_policy
from xueji_transfer.domain import route_dispute
from xueji_transfer.domain.jurisdiction import code_at, level_of

ORDER = [Level.SCHOOL, Level.COUNTY, Level.CITY, Level.PROVINCE, Level.MINISTRY]


def test_r53_one_school_routes_to_the_school_or_its_county() -> None:
    route = route_dispute(["3506020001"])
    assert (route.level, route.code) == (Level.SCHOOL, "3506020001")
    assert (route.alternative_level, route.alternative_code) == (Level.COUNTY, "350602")


def test_r53_a_complaint_about_the_school_s_own_act_goes_to_the_county() -> None:
    route = route_dispute(["3506020001"], about_school_act=True)
    assert (route.level, route.code) == (Level.COUNTY, "350602")
    assert route.alternative_level is None  # the school does not judge its own act


def test_r53_each_handling_body_s_published_channel_comes_with_the_route() -> None:
    complaints = load_policy("fj").complaints
    one_school = route_dispute(["3506020001"], complaints=complaints)
    assert one_school.channel is None  # Fujian's file publishes no school's own channel yet
    assert one_school.alternative_channel is not None and one_school.alternative_channel.phone
    own = Complaints(
        by_level=complaints.by_level,
        by_code={"3506020001": ComplaintChannel(how_to_apply="到学籍办公室当面反映", phone="0596-1234567")},
    )
    assert route_dispute(["3506020001"], complaints=own).channel == own.by_code["3506020001"]
    for codes in (["3506020001", "3506020002"], ["3506020001", "3506030004"], ["3506020001", "3501020003"],
                  ["3506020001", "4301020001"]):  # fmt: skip
        route = route_dispute(codes, complaints=complaints)
        assert route.channel is not None and route.channel.how_to_apply and route.channel.phone, route.level


def test_r53_a_policy_channel_without_a_phone_or_with_a_bad_code_fails_at_load() -> None:
    with pytest.raises(PolicyError, match="complaints.by_level.county.phone"):
        parse_policy('code: "35"\nname: X\ncomplaints: {by_level: {county: {how_to_apply: 书面反映}}}')
    with pytest.raises(PolicyError, match="complaints.by_code"):
        parse_policy('code: "35"\nname: X\ncomplaints: {by_code: {"3506": {how_to_apply: a, phone: "12345"}}}')


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

"""Status numbers (R03-R05), provincial supplementary numbers (R07) and certificate numbers (R08): pure formatting."""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from province_rules import FUJIAN_LAYOUT

from xueji_contracts.identity import InvalidResidentId, check_character
from xueji_contracts.policy import SupplementaryNumberFormat, load_policy
from xueji_registry.domain import (
    CAPACITY,
    NumberKind,
    Refused,
    SchoolNumbering,
    Segment,
    certificate_number,
    formal_number,
    kind_of,
    no_id_number,
    supplementary_number,
    temporary_number,
)
from xueji_registry.domain.supplementary import certificate_series, read_certificate_number

ID_SHAPE = re.compile(r"^(\d{6})(\d{8})(\d{3})([\dX])$")
FUJIAN_SCHOOL = SchoolNumbering(county="06", township="03", school="12")


def real_id(region: str = "350602", born: str = "20150315", sequence: str = "123") -> str:
    first17 = region + born + sequence
    return first17 + check_character(first17)


@given(
    county=st.from_regex(r"\d{6}", fullmatch=True),
    counters=st.lists(st.integers(min_value=1, max_value=CAPACITY), min_size=2, max_size=50, unique=True),
)
def test_r03_l_numbers_are_id_format_with_valid_check_characters_and_distinct_per_counter(
    county: str, counters: list[int]
) -> None:
    numbers = [temporary_number(county, counter) for counter in counters]
    assert len(set(numbers)) == len(numbers)
    for number in numbers:
        assert number[0] == "L"
        match = ID_SHAPE.match(number[1:])
        assert match is not None, number
        region, born, sequence, check = match.groups()
        assert region == county
        assert 1800 <= date(int(born[:4]), int(born[4:6]), int(born[6:])).year <= 1899  # a real calendar date
        assert sequence != "000"
        assert check == check_character(number[1:18])
        assert kind_of(number) is NumberKind.TEMPORARY


def test_r03_l_number_is_deterministic_and_never_a_living_persons_id_number() -> None:
    assert temporary_number("350602", 1) == temporary_number("350602", 1) == "L350602180001010013"
    assert temporary_number("350602", 1000) == "L350602180001020019"  # 999 per "day", then the next day
    last = temporary_number("350602", CAPACITY)
    assert last[7:15] == "18991231"  # the whole range stays before anyone alive was born


@pytest.mark.parametrize("counter", [0, -1, CAPACITY + 1])
def test_r03_allocation_counter_outside_the_range_is_refused(counter: int) -> None:
    with pytest.raises(Refused) as refused:
        temporary_number("350602", counter)
    assert refused.value.field == "counter"


def test_r03_county_must_be_six_digits() -> None:
    with pytest.raises(Refused) as refused:
        temporary_number("35060", 1)
    assert refused.value.field == "county"


def test_r03_j_numbers_follow_the_same_coding_rule_under_their_own_letter() -> None:
    number = no_id_number("350602", 42)
    assert number[0] == "J"
    assert number[1:] == temporary_number("350602", 42)[1:]
    assert kind_of(number) is NumberKind.NO_ID


def test_r03_g_number_is_g_plus_the_validated_id_number() -> None:
    resident_id = real_id()
    assert formal_number(resident_id) == "G" + resident_id
    assert kind_of(formal_number(resident_id)) is NumberKind.FORMAL
    with pytest.raises(InvalidResidentId):
        formal_number(resident_id[:-1] + ("0" if resident_id[-1] != "0" else "1"))


@pytest.mark.parametrize("number", ["X350602180001010013", "L35060218000101001", "L350602180001010014"])
def test_r03_malformed_status_numbers_are_refused(number: str) -> None:
    with pytest.raises(Refused):
        kind_of(number)


def test_r07_fujian_primary_supplementary_number_layout() -> None:
    number = supplementary_number(Segment.PRIMARY, 2016, FUJIAN_SCHOOL, 7, FUJIAN_LAYOUT)
    assert number == "1" + "16" + "06" + "03" + "12" + "0007"
    assert len(number) == 13


@pytest.mark.parametrize(("segment", "code"), [(Segment.JUNIOR, "2"), (Segment.SENIOR, "3")])
def test_r07_fujian_junior_and_senior_numbers_have_11_digits_and_no_township(segment: Segment, code: str) -> None:
    number = supplementary_number(segment, 2024, FUJIAN_SCHOOL, 123, FUJIAN_LAYOUT)
    # A school with a township code (e.g. a nine-year school) still gets the 11-digit secondary layout.
    assert number == code + "24" + "06" + "12" + "0123"
    assert len(number) == 11


@pytest.mark.parametrize("sequence", [0, 10000])
def test_r07_sequence_outside_1_to_9999_is_a_clear_error(sequence: int) -> None:
    with pytest.raises(Refused) as refused:
        supplementary_number(Segment.SENIOR, 2024, FUJIAN_SCHOOL, sequence, FUJIAN_LAYOUT)
    assert refused.value.rule == "R07"
    assert refused.value.field == "sequence"
    assert "1..9999" in refused.value.reason


def test_r07_last_sequence_9999_still_fits() -> None:
    assert supplementary_number(Segment.SENIOR, 2024, FUJIAN_SCHOOL, 9999, FUJIAN_LAYOUT).endswith("9999")


def test_r07_primary_number_needs_the_township_code() -> None:
    with pytest.raises(Refused) as refused:
        supplementary_number(Segment.PRIMARY, 2024, SchoolNumbering(county="06", school="12"), 1, FUJIAN_LAYOUT)
    assert refused.value.field == "township"


def test_r07_layout_is_a_parameter_other_provinces_can_set() -> None:
    wide = SupplementaryNumberFormat.model_validate(
        {"primary": "1 yy CC SS NNNNN", "junior": "2 yy CC SS NNNNN", "senior": "3 yy CC SS NNNNN"}
    )
    assert supplementary_number(Segment.PRIMARY, 2024, FUJIAN_SCHOOL, 10000, wide) == "124061210000"


def test_r07_a_province_whose_policy_sets_no_layout_gives_no_supplementary_number() -> None:
    hunan = load_policy("hn").supplementary_number
    with pytest.raises(Refused) as refused:
        supplementary_number(Segment.PRIMARY, 2024, FUJIAN_SCHOOL, 1, hunan)
    assert refused.value.rule == "R07" and "policy" in refused.value.reason


def test_r08_certificate_number_is_b_plus_the_layout_with_the_graduation_year() -> None:
    number = certificate_number(Segment.JUNIOR, 2027, FUJIAN_SCHOOL, 31, FUJIAN_LAYOUT)
    assert number == "B" + "2" + "27" + "06" + "12" + "0031"
    assert number[2:4] == "27"
    assert certificate_number(Segment.PRIMARY, 2030, FUJIAN_SCHOOL, 1, FUJIAN_LAYOUT) == "B1300603120001"


@pytest.mark.parametrize("segment", list(Segment))
def test_r08_a_certificate_number_reads_back_as_its_series_and_sequence(segment: Segment) -> None:
    """The upgrade that keeps a series above the numbers records hold reads each number back (read_certificate_number):
    the series it was drawn from, exactly as `certificate_series` names it, and its sequence."""
    number = certificate_number(segment, 2027, FUJIAN_SCHOOL, 40, FUJIAN_LAYOUT)
    series = certificate_series(segment, 2027, FUJIAN_SCHOOL, FUJIAN_LAYOUT)
    assert read_certificate_number(number, FUJIAN_LAYOUT) == {(series, 40)}
    assert read_certificate_number(number[1:], FUJIAN_LAYOUT) == set(), "without its B it is no certificate number"
    assert read_certificate_number(number + "1", FUJIAN_LAYOUT) == set()


def test_r08_certificate_sequence_out_of_range_names_r08() -> None:
    with pytest.raises(Refused) as refused:
        certificate_number(Segment.SENIOR, 2027, FUJIAN_SCHOOL, 10000, FUJIAN_LAYOUT)
    assert refused.value.rule == "R08"

"""Supplementary numbers (R07) and graduation certificate numbers (R08) from the declared Fujian layouts."""

from __future__ import annotations

import pytest

from xueji_contracts.policy import NumberLayout, PolicyError, SchoolLevel, load_policy, parse_policy

FORMAT = load_policy("fj").supplementary_number


def test_r07_fujian_primary_is_13_digits_1_yy_cc_tt_ss_nnnn():
    assert FORMAT is not None
    primary = FORMAT.layout_for(SchoolLevel.PRIMARY)
    assert primary.length == 13
    assert primary.fields == ("year", "county", "township", "school", "sequence")
    number = primary.compose(year=2016, county="05", township=3, school="12", sequence=7)
    assert number == "1160503120007"
    assert primary.parse(number) == {"year": "16", "county": "05", "township": "03", "school": "12", "sequence": "0007"}


@pytest.mark.parametrize(("level", "segment"), [(SchoolLevel.JUNIOR, "2"), (SchoolLevel.SENIOR, "3")])
def test_r07_fujian_junior_and_senior_are_11_digits_s_yy_cc_ss_nnnn(level, segment):
    assert FORMAT is not None
    layout = FORMAT.layout_for(level)
    assert layout.length == 11 and layout.fields == ("year", "county", "school", "sequence")
    assert layout.compose(year=2024, county=1, school=2, sequence=345) == f"{segment}24" + "01" + "02" + "0345"


def test_r07_numbers_that_do_not_fit_are_refused():
    assert FORMAT is not None
    primary = FORMAT.layout_for(SchoolLevel.PRIMARY)
    with pytest.raises(ValueError, match="sequence must fit in 4 digits"):
        primary.compose(year=2016, county=5, township=3, school=12, sequence=10000)
    with pytest.raises(ValueError, match="missing \\['township'\\]"):
        primary.compose(year=2016, county=5, school=12, sequence=1)
    with pytest.raises(ValueError, match="does not follow"):
        primary.parse("2160503120007")  # a junior segment in a primary number
    with pytest.raises(ValueError, match="does not follow"):
        FORMAT.layout_for(SchoolLevel.JUNIOR).parse("216050312")


def test_r08_certificate_number_is_b_plus_layout_with_graduation_year():
    assert FORMAT is not None
    number = FORMAT.certificate_number(SchoolLevel.JUNIOR, year=2027, county=5, school=12, sequence=7)
    assert number == "B22705120007"  # B, segment 2, graduation year 27, county, school, sequence


@pytest.mark.parametrize(
    ("layout", "reason"),
    [("1 yy CC QQ NNNN", "group 'QQ'"), ("1 CC SS NNNN", "needs a year"), ("1 yy CC CC NNNN", "once")],
)
def test_r07_bad_layouts_are_refused(layout, reason):
    with pytest.raises(ValueError, match=reason):
        NumberLayout(layout=layout)


def test_r07_bad_layout_in_a_policy_file_names_the_field():
    text = 'code: "35"\nname: F\nsupplementary_number: {primary: "1 yy", junior: "2 yy NNNN", senior: "3 yy NNNN"}\n'
    with pytest.raises(PolicyError, match=r"supplementary_number\.primary\.layout"):
        parse_policy(text)

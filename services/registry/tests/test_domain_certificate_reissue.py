"""R08 after the graduate moved on: a lost certificate is reissued once by default (002 III.15: the graduation
school's diploma, audited and printed by its competent bureau), whatever the record became since, and a second
reissue needs that bureau's exception. Pure domain."""

from __future__ import annotations

from datetime import date

import pytest
from record_fixtures import COUNTY_CLERK, SCHOOL_CLERK, evidence
from test_domain_exceptions import exception
from test_domain_lifecycle import E, Record, graduation

from xueji_contracts.auth import OperatorClaims, Role
from xueji_contracts.messages.status import StatusState
from xueji_registry import domain as d

SENIOR_SCHOOL = "3506030002"  # in another county than the junior school that issued the diploma
SENIOR_CLERK = OperatorClaims(sub="clerk-3", role=Role.SCHOOL, code=SENIOR_SCHOOL)
SENIOR_COUNTY = OperatorClaims(sub="county-3", role=Role.COUNTY, code="350603")


def junior_graduate_in_senior_high() -> tuple[Record, str]:
    """A junior graduate of SCHOOL (county 350602) now enrolled in senior high at SENIOR_SCHOOL (county 350603)."""
    record = Record(d.Segment.JUNIOR, grade=9)
    record.change(graduation(), E.GRADUATION_ROSTER, days=280)
    number = record.now.certificates[0].number
    assert number is not None
    record.do(
        d.RegisterFreshman(
            operator=SENIOR_CLERK, reason="高一新生注册", school_code=SENIOR_SCHOOL, segment=d.Segment.SENIOR,
            grade=10, admitted_on=date(2025, 9, 1),
        ),
        days=360,
    )  # fmt: skip
    assert record.now.state is StatusState.ENROLLED and record.now.school_code == SENIOR_SCHOOL
    return record, number


def reissue(number: str, operator: OperatorClaims = SENIOR_CLERK) -> d.RequestChange:
    return d.RequestChange(
        operator=operator,
        reason="毕业证遗失",
        evidence=evidence(E.LOSS_STATEMENT),
        details=d.ReissueCertificate(certificate_number=number),
    )


def review(record: Record, operator: OperatorClaims) -> d.ReviewChange:
    pending = record.now.pending[-1]
    return d.ReviewChange(operator=operator, reason="审核通过", change_id=pending.change_id, approve=True)


def test_r08_the_junior_diploma_of_a_student_now_in_senior_high_is_reissued_by_the_issuing_county() -> None:
    record, number = junior_graduate_in_senior_high()
    record.do(reissue(number), days=400)  # the school holding the record asks
    with pytest.raises(d.OutsideJurisdiction):  # the senior school's county did not issue the diploma
        record.do(review(record, SENIOR_COUNTY), days=401)
    record.do(review(record, COUNTY_CLERK), days=401)  # the junior school's county audits and prints it
    assert record.now.certificates[0].reissues == 1
    assert record.now.certificates[0].reissued_on == date(2025, 10, 16)
    assert record.now.state is StatusState.ENROLLED


def test_r08_the_graduation_school_may_ask_for_the_reissue_of_its_diploma() -> None:
    record, number = junior_graduate_in_senior_high()
    record.do(reissue(number, operator=SCHOOL_CLERK), days=400)
    assert record.now.pending[-1].kind is d.ChangeKind.REISSUE_CERTIFICATE
    stranger = OperatorClaims(sub="clerk-9", role=Role.SCHOOL, code="3506030009")
    with pytest.raises(d.OutsideJurisdiction):
        record.do(reissue(number, operator=stranger), days=400)


def test_r08_a_second_reissue_after_progression_takes_the_issuing_county_s_exception() -> None:
    record, number = junior_graduate_in_senior_high()
    record.do(reissue(number), days=400)
    record.do(review(record, COUNTY_CLERK), days=401)
    with pytest.raises(d.Refused) as refused:
        record.do(reissue(number), days=800)
    assert refused.value.rule == "R08" and "exception" in refused.value.reason
    with pytest.raises(d.OutsideJurisdiction):
        record.do(exception("R08", "second_reissue", operator=SENIOR_COUNTY, certificate_number=number), days=801)
    record.do(exception("R08", "second_reissue", certificate_number=number), days=801)
    record.do(reissue(number), days=802)
    record.do(review(record, COUNTY_CLERK), days=803)
    assert record.now.certificates[0].reissues == 2

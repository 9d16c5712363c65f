"""Transfer outcomes (R28, R07 on moving) and authorization by role and jurisdiction (R50)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from province_rules import decide
from record_fixtures import (
    COUNTY_CLERK,
    MINISTRY_CLERK,
    SCHOOL,
    SCHOOL_CLERK,
    T0,
    Stream,
    enrollment,
    evidence,
    suspension_request,
)

from xueji_contracts.auth import OperatorClaims, Role
from xueji_contracts.identity import check_character
from xueji_contracts.messages.status import StatusState
from xueji_registry import domain as d

E = d.EvidenceKind
NEIGHBOUR = "3506020002"  # same county
ELSEWHERE = "3506030001"  # another county, same province
JIANGXI = "3607020001"
NEIGHBOUR_CLERK = OperatorClaims(sub="clerk-2", role=Role.SCHOOL, code=NEIGHBOUR)
ELSEWHERE_CLERK = OperatorClaims(sub="clerk-3", role=Role.SCHOOL, code=ELSEWHERE)
OTHER_COUNTY = OperatorClaims(sub="county-2", role=Role.COUNTY, code="350603")
CITY_CLERK = OperatorClaims(sub="city-1", role=Role.CITY, code="350600")
NUMBERING = d.SchoolNumbering(county="06", township="03", school="12")


def person() -> d.StudentIdentity:
    first17 = "350602" + "20120315" + "123"
    return d.StudentIdentity(
        name="陈一鸣", id_number=first17 + check_character(first17), gender="male", birth_date=date(2012, 3, 15)
    )


def junior(operator: OperatorClaims = SCHOOL_CLERK) -> d.EnrollStudent:
    return enrollment(d.Segment.JUNIOR, 7, identity=person(), operator=operator)


class Record(Stream):
    def __init__(self, first: Any = None) -> None:
        super().__init__()
        self.do(first or junior())


def assign(sequence: int = 1, operator: OperatorClaims = SCHOOL_CLERK) -> d.AssignSupplementaryNumber:
    return d.AssignSupplementaryNumber(
        operator=operator, reason="新生补充学籍号", school_year=2024, numbering=NUMBERING, sequence=sequence
    )


def transfer_in(
    transfer_id: str = "tr-1",
    school: str = NEIGHBOUR,
    operator: OperatorClaims = NEIGHBOUR_CLERK,
    arrival: d.Arrival | None = None,
    from_school: str | None = None,
) -> d.RecordTransferIn:
    return d.RecordTransferIn(
        operator=operator,
        reason="转学完成，学生已报到",
        evidence=evidence(E.TRANSFER_RECORD),
        transfer_id=transfer_id,
        receiving_school=school,
        arrival=arrival,
        from_school=from_school,
    )


# R07 supplementary numbers on the record


def test_r07_supplementary_number_is_assigned_once_per_segment() -> None:
    record = Record()
    record.do(assign(5))
    assert record.now.supplementary_numbers == {d.Segment.JUNIOR: "22406120005"}
    with pytest.raises(d.Refused) as refused:
        decide(assign(6), record.now, T0)
    assert "keeps 22406120005" in refused.value.reason


def test_r07_intra_province_transfer_keeps_the_supplementary_number() -> None:
    record = Record()
    record.do(assign(5))
    record.do(transfer_in(school=ELSEWHERE, operator=ELSEWHERE_CLERK), days=100)
    assert record.now.school_code == ELSEWHERE
    assert record.now.supplementary_numbers == {d.Segment.JUNIOR: "22406120005"}
    assert record.now.state is StatusState.ENROLLED


def test_r07_first_transfer_into_the_province_gets_a_new_supplementary_number() -> None:
    arrival = d.Arrival(
        student_id="stu-9",
        identity=person(),
        status_number="G" + person().id_number,  # type: ignore[operator]
        segment=d.Segment.JUNIOR,
        grade=8,
        graduation_grade=9,
        admitted_on=date(2023, 9, 1),
    )
    record = Record(transfer_in(school=SCHOOL, operator=SCHOOL_CLERK, arrival=arrival))
    assert record.now.state is StatusState.ENROLLED and record.now.student_id == "stu-9"
    assert record.now.status_number == arrival.status_number  # the national number travels
    assert record.now.supplementary_numbers == {}
    record.do(assign(77))
    assert record.now.supplementary_numbers[d.Segment.JUNIOR].endswith("0077")


# R28 transfer outcomes


def test_r28_suspended_student_must_resume_before_a_transfer() -> None:
    record = Record()
    record.do(suspension_request(reason="休学", cause=d.SuspensionCause.OTHER, proof=E.SUPPORTING_DOCUMENT))
    record.do(d.ReviewChange(operator=COUNTY_CLERK, reason="同意", change_id="chg-2", approve=True))
    with pytest.raises(d.IllegalTransition) as illegal:
        decide(transfer_in(), record.now, T0)
    assert illegal.value.current is StatusState.SUSPENDED
    assert "first resumes" in str(illegal.value)


def test_r28_transfer_out_of_the_province_ends_the_record_here_and_a_return_reopens_it() -> None:
    record = Record()
    record.do(assign(5))
    out = d.RecordTransferOut(operator=SCHOOL_CLERK, reason="转往江西", transfer_id="tr-1", receiving_school=JIANGXI)
    record.do(out, days=30)
    assert record.now.state is StatusState.TRANSFERRED
    with pytest.raises(d.IllegalTransition):
        decide(
            d.RequestChange(
                operator=SCHOOL_CLERK,
                reason="x",
                evidence=evidence(E.DEATH_CERTIFICATE),
                details=d.Death(date_of_death=date(2024, 9, 1)),
            ),
            record.now,
            T0,
        )
    record.do(transfer_in("tr-2", school=SCHOOL, operator=SCHOOL_CLERK), days=400)
    assert record.now.state is StatusState.ENROLLED
    assert record.now.supplementary_numbers == {d.Segment.JUNIOR: "22406120005"}  # not the first time here


def test_r28_a_redelivered_transfer_outcome_records_nothing() -> None:
    record = Record()
    record.do(transfer_in())
    assert decide(transfer_in(), record.now, T0) == []


def test_r21_a_second_case_completing_after_the_record_moved_elsewhere_is_not_applied() -> None:
    """Two cases from the same sending school (a guardian applied at two schools): the first to complete moves the
    student; the second, still naming the school the student left, is refused naming the case's sending school, and
    the record stays where the first case put it (one record, one current school)."""
    record = Record()
    record.do(transfer_in("tr-1", from_school=SCHOOL))
    with pytest.raises(d.Refused) as refused:
        decide(transfer_in("tr-2", school=ELSEWHERE, operator=ELSEWHERE_CLERK, from_school=SCHOOL), record.now, T0)
    assert refused.value.rule == "R21" and refused.value.field == "sending_school"
    assert NEIGHBOUR in refused.value.reason
    assert record.now.school_code == NEIGHBOUR
    assert decide(transfer_in("tr-1", from_school=SCHOOL), record.now, T0) == []  # a redelivery still changes nothing


def test_r21_r34_a_case_to_another_province_completing_after_the_record_moved_here_is_not_applied() -> None:
    """The student moved to a neighbour school by a case inside the province while a case to Jiangxi, applied from
    the school the student left, was open: its completion does not end the record at the school it moved to."""
    record = Record()
    record.do(transfer_in("tr-1", from_school=SCHOOL))
    out = d.RecordTransferOut(
        operator=COUNTY_CLERK, reason="转往江西", transfer_id="tr-2", receiving_school=JIANGXI, from_school=SCHOOL
    )
    with pytest.raises(d.Refused) as refused:
        decide(out, record.now, T0)
    assert refused.value.rule == "R21" and refused.value.field == "sending_school"
    assert record.now.state is StatusState.ENROLLED and record.now.school_code == NEIGHBOUR


def test_r28_an_unknown_student_without_arrival_data_is_an_unknown_record() -> None:
    with pytest.raises(d.UnknownRecord):
        decide(transfer_in(), None, T0)


def test_r28_intra_province_move_is_not_a_transfer_out() -> None:
    out = d.RecordTransferOut(operator=SCHOOL_CLERK, reason="x", transfer_id="tr-1", receiving_school=ELSEWHERE)
    with pytest.raises(d.Refused):
        decide(out, Record().now, T0)


# R50 authorization


def test_r50_school_operates_only_for_its_own_school() -> None:
    state = Record().now
    assert d.authorize(SCHOOL_CLERK, suspension_request(), state).allowed
    verdict = d.authorize(NEIGHBOUR_CLERK, suspension_request(NEIGHBOUR_CLERK), state)
    assert not verdict.allowed
    assert verdict.reason == "R50: school 3506020001 is outside the jurisdiction 3506020002"
    with pytest.raises(d.OutsideJurisdiction):
        decide(junior(operator=NEIGHBOUR_CLERK), None, T0)


def test_r50_county_bureau_verifies_its_own_schools_only() -> None:
    record = Record()
    record.do(suspension_request())
    review = d.ReviewChange(operator=OTHER_COUNTY, reason="同意", change_id="chg-2", approve=True)
    verdict = d.authorize(OTHER_COUNTY, review, record.now)
    assert not verdict.allowed and "outside the jurisdiction 350603" in verdict.reason
    assert d.authorize(COUNTY_CLERK, review.model_copy(update={"operator": COUNTY_CLERK}), record.now).allowed


@pytest.mark.parametrize("operator", [SCHOOL_CLERK, CITY_CLERK, MINISTRY_CLERK])
def test_r50_only_the_county_bureau_verifies_status_changes(operator: OperatorClaims) -> None:
    record = Record()
    record.do(suspension_request())
    before = record.now
    review = d.ReviewChange(operator=operator, reason="同意", change_id="chg-2", approve=True)
    with pytest.raises(d.OutsideJurisdiction) as refused:
        decide(review, before, T0)
    assert "for a county operator" in refused.value.reason
    assert record.now == before


@pytest.mark.parametrize("operator", [COUNTY_CLERK, CITY_CLERK])
def test_r50_bureaus_do_not_initiate_what_the_school_operates(operator: OperatorClaims) -> None:
    verdict = d.authorize(operator, suspension_request(operator), Record().now)
    assert not verdict.allowed and "for a school operator" in verdict.reason


def test_r50_the_school_records_going_abroad_itself() -> None:
    abroad = d.RequestChange(
        operator=SCHOOL_CLERK,
        reason="随父母出国",
        evidence=evidence(E.ABROAD_APPLICATION, E.VISA),
        details=d.GoAbroad(),
    )
    assert d.authorize(SCHOOL_CLERK, abroad, Record().now).allowed


def test_r50_transfer_outcome_is_recorded_by_the_receiving_side() -> None:
    state = Record().now
    assert d.authorize(NEIGHBOUR_CLERK, transfer_in(), state).allowed
    assert not d.authorize(ELSEWHERE_CLERK, transfer_in(operator=ELSEWHERE_CLERK), state).allowed


def test_r28_a_transfer_into_the_current_school_is_refused() -> None:
    with pytest.raises(d.Refused) as refused:
        decide(transfer_in(school=SCHOOL, operator=SCHOOL_CLERK), Record().now, T0)
    assert refused.value.field == "receiving_school"


def test_r07_no_supplementary_number_for_a_record_that_left_the_province() -> None:
    record = Record()
    record.do(
        d.RecordTransferOut(operator=SCHOOL_CLERK, reason="转往江西", transfer_id="tr-1", receiving_school=JIANGXI)
    )
    with pytest.raises(d.IllegalTransition) as illegal:
        decide(assign(), record.now, T0)
    assert illegal.value.current is StatusState.TRANSFERRED

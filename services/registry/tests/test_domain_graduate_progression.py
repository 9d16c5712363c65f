"""A graduate's progression case (毕业后升学) completed by the transfer service, and its R33 rollback: pure domain.

R07: the school a graduate registers at as the next segment's freshman gives that segment's number and the earlier
one stays; a progression case is that registration, inside the province or from another one. R33 (003 Q13): the
county status office rolls a mistaken one back to the graduating school, where the record is again the graduate's.
R28: a *transfer* of a graduate (not a progression) is still refused."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from test_domain_lifecycle import COUNTY_CLERK, T0, Record
from test_domain_progression_and_numbers import JUNIOR_SCHOOL, numbered, primary_graduate

from xueji_contracts.auth import OperatorClaims, Role
from xueji_contracts.messages.status import StatusState
from xueji_registry.domain import (
    IllegalTransition,
    OutsideJurisdiction,
    RecordRollback,
    RecordTransferIn,
    RecordTransferOut,
    Refused,
    Segment,
    StudentStatus,
    handle,
)
from xueji_registry.domain.status_events import Arrival, FreshmanRegistered, ProgressionRolledBack

PRIMARY_SCHOOL, ACTUAL_SCHOOL, HUNAN_SCHOOL = "3506020001", "3506020003", "4301020001"
CASE = "tr-prog-1"


def progression(grade: int | None = 7, school: str = JUNIOR_SCHOOL, transfer_id: str = CASE) -> RecordTransferIn:
    """The receiving side's record of a completed case, as the transfer service's outcome gives it."""
    return RecordTransferIn(
        operator=OperatorClaims(sub="transfer-service", role=Role.COUNTY, code=school[:6]),
        reason=f"transfer {transfer_id} completed",
        transfer_id=transfer_id,
        receiving_school=school,
        progression_grade=grade,
    )


def rollback(transfer_id: str = CASE, school: str = PRIMARY_SCHOOL, operator: OperatorClaims = COUNTY_CLERK):
    return RecordRollback(
        operator=operator, reason="误转，退回毕业学校", transfer_id=transfer_id, back_to_school=school
    )


def progressed() -> tuple[Record, str]:
    """A primary graduate (numbered 5 at the primary school) whose progression case to junior high completed."""
    record = primary_graduate()
    primary_number = record.now.supplementary_numbers[Segment.PRIMARY]
    record.do(progression(), days=360)
    return record, primary_number


def test_r07_r28_a_graduate_s_completed_progression_enrolls_them_at_the_receiving_school_in_the_next_segment() -> None:
    record, primary_number = progressed()
    registered = record.events[-1]
    assert isinstance(registered, FreshmanRegistered) and registered.transfer_id == CASE
    assert (registered.from_state, registered.previous_school) == (StatusState.GRADUATED, PRIMARY_SCHOOL)
    now = record.now
    assert (now.state, now.school_code, now.segment, now.grade, now.graduation_grade) == (
        StatusState.ENROLLED, JUNIOR_SCHOOL, Segment.JUNIOR, 7, 9
    )  # fmt: skip
    assert now.admitted_on == date(2025, 9, 5)  # the day the case completed (Asia/Shanghai)
    numbered(record, JUNIOR_SCHOOL, 1, year=2025)  # R07: the receiving school gives the junior number
    assert record.now.supplementary_numbers[Segment.PRIMARY] == primary_number  # the primary one stays
    assert record.do(progression(), days=361) == []  # a redelivered completion records nothing


def test_r07_a_progression_goes_on_to_a_later_segment() -> None:
    record = primary_graduate()
    with pytest.raises(Refused) as same:
        record.do(progression(grade=6))
    assert (same.value.rule, same.value.field) == ("R07", "segment")


def test_r28_a_transfer_of_a_graduate_is_still_refused_only_a_progression_moves_them_on() -> None:
    record = primary_graduate()
    with pytest.raises(IllegalTransition) as transfer:
        record.do(progression(grade=None))
    assert (transfer.value.rule, transfer.value.current) == ("R28", StatusState.GRADUATED)
    out = RecordTransferOut(operator=COUNTY_CLERK, reason="x", transfer_id="tr-9", receiving_school=HUNAN_SCHOOL)
    with pytest.raises(IllegalTransition) as leaving:
        record.do(out)
    assert leaving.value.rule == "R28"
    with pytest.raises(IllegalTransition):  # an enrolled pupil is not a graduate: no progression (R07)
        Record(Segment.PRIMARY, grade=5).do(progression())


def test_r33_a_rollback_restores_the_graduate_at_the_graduating_school_once() -> None:
    record, primary_number = progressed()
    numbered(record, JUNIOR_SCHOOL, 1, year=2025)
    junior_number = record.now.supplementary_numbers[Segment.JUNIOR]
    with pytest.raises(OutsideJurisdiction):  # R33: the county status office operates, not a school
        record.do(rollback(operator=OperatorClaims(sub="clerk-1", role=Role.SCHOOL, code=PRIMARY_SCHOOL)))
    with pytest.raises(Refused) as unknown:
        record.do(rollback("tr-other"))
    assert unknown.value.rule == "R33"

    [back] = record.do(rollback(), days=400)
    assert isinstance(back, ProgressionRolledBack) and back.by.role is Role.COUNTY  # who operates is responsible
    assert (back.from_school, back.from_state, back.to_state) == (JUNIOR_SCHOOL, StatusState.ENROLLED,
                                                                   StatusState.GRADUATED)  # fmt: skip
    now = record.now
    assert (now.state, now.school_code, now.segment, now.grade, now.graduation_grade) == (
        StatusState.GRADUATED, PRIMARY_SCHOOL, Segment.PRIMARY, 6, 6
    )  # fmt: skip
    assert [c.kind.value for c in now.certificates] == ["graduation"]  # the diploma stands
    # Numbers are never taken back (no broken codes): both stay on the record.
    assert now.supplementary_numbers == {Segment.PRIMARY: primary_number, Segment.JUNIOR: junior_number}
    assert record.do(rollback(), days=401) == []  # a redelivered rollback records nothing

    # The school the student actually attends then records the progression (003 Q13), keeping the junior number.
    record.do(progression(school=ACTUAL_SCHOOL, transfer_id="tr-prog-2"), days=402)
    assert (record.now.state, record.now.school_code, record.now.segment) == (
        StatusState.ENROLLED, ACTUAL_SCHOOL, Segment.JUNIOR
    )  # fmt: skip
    assert record.now.supplementary_numbers[Segment.JUNIOR] == junior_number


def test_r33_r34_a_progression_to_another_province_ends_the_record_here_and_a_rollback_restores_it() -> None:
    record = primary_graduate()
    out = RecordTransferOut(
        operator=COUNTY_CLERK, reason="升入湖南初中", transfer_id=CASE, receiving_school=HUNAN_SCHOOL, progression=True
    )
    record.do(out, days=360)
    assert (record.now.state, record.now.school_code) == (StatusState.TRANSFERRED, PRIMARY_SCHOOL)
    assert record.do(out, days=361) == []
    record.do(rollback(), days=380)
    assert (record.now.state, record.now.school_code, record.now.segment) == (
        StatusState.GRADUATED, PRIMARY_SCHOOL, Segment.PRIMARY
    )  # fmt: skip


def graduate_file() -> tuple[StudentStatus, Arrival]:
    """A primary graduate's record in another province, and the electronic file it sends with the student."""
    graduate = primary_graduate().now
    file = Arrival(
        student_id=graduate.student_id, identity=graduate.identity, status_number=graduate.status_number,
        segment=Segment.PRIMARY, grade=6, graduation_grade=6, admitted_on=date(2019, 9, 1),
    )  # fmt: skip
    return graduate, file


def test_r07_r34_a_graduate_from_another_province_starts_here_in_the_next_segment() -> None:
    graduate, arrival = graduate_file()
    command = progression().model_copy(update={"arrival": arrival})
    now, _ = handle(command, None, T0 + timedelta(days=360))
    assert now is not None
    assert (now.state, now.school_code, now.segment, now.grade, now.graduation_grade, now.admitted_on) == (
        StatusState.ENROLLED, JUNIOR_SCHOOL, Segment.JUNIOR, 7, 9, date(2025, 9, 5)
    )  # fmt: skip
    assert now.status_number == graduate.status_number  # one person, one number (R01)
    assert now.supplementary_numbers == {}  # R07: the receiving school gives the junior number
    with pytest.raises(Refused) as same:
        handle(command.model_copy(update={"progression_grade": 5}), None, T0)
    assert same.value.rule == "R07"

    # R33: rolled back to the graduating school in the other province; the record started here ends as history.
    back = rollback(school=HUNAN_SCHOOL, operator=OperatorClaims(sub="county-1", role=Role.COUNTY, code="350602"))
    ended, events = handle(back, now, T0 + timedelta(days=380))
    assert ended is not None and (ended.state, ended.school_code) == (StatusState.TRANSFERRED, JUNIOR_SCHOOL)
    assert [e.type for e in events] == ["transferred_out"]
    assert handle(back, ended, T0 + timedelta(days=381))[1] == []  # redelivered: nothing more


def test_r23_r07_an_offline_accepted_progression_stays_in_the_next_segment_when_the_file_reconciles_it() -> None:
    _, file = graduate_file()
    paper = file.model_copy(update={"source": "paper_form"})
    offline, _ = handle(progression().model_copy(update={"arrival": paper}), None, T0 + timedelta(days=360))
    assert offline is not None and (offline.segment, offline.grade, offline.paper_arrival) == (Segment.JUNIOR, 7, CASE)
    arrived = progression().model_copy(update={"arrival": file})
    reconciled, [event] = handle(arrived, offline, T0 + timedelta(days=370))
    assert reconciled is not None and event.type == "arrival_reconciled"
    assert event.differences == ()  # the file is read as the graduate moving on, like the paper form was
    assert (reconciled.segment, reconciled.grade, reconciled.admitted_on) == (Segment.JUNIOR, 7, date(2025, 9, 5))

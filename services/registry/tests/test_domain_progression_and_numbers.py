"""R07 moving on to a later segment (the freshman school gives that segment's number, the earlier one stays) and R05
a G number changed by re-application with its approval (003 Q6): pure domain."""

from __future__ import annotations

from datetime import date

import pytest
from record_fixtures import resident_id
from test_domain_history import NEW_ID
from test_domain_history import Record as FormalRecord
from test_domain_lifecycle import SCHOOL_CLERK, E, Record, graduation

from xueji_contracts.auth import OperatorClaims, Role
from xueji_contracts.messages.status import StatusState
from xueji_registry import domain as d
from xueji_registry.domain.record_changes import ReapplyFormalNumber
from xueji_registry.domain.record_events import StatusNumberChanged
from xueji_registry.domain.status_events import FreshmanRegistered

JUNIOR_SCHOOL = "3506020002"
JUNIOR_CLERK = OperatorClaims(sub="clerk-2", role=Role.SCHOOL, code=JUNIOR_SCHOOL)


def numbered(record: Record, school: str, sequence: int, year: int = 2024) -> None:
    numbering = d.SchoolNumbering(county=school[4:6], township=school[6:8], school=school[8:10])
    by = OperatorClaims(sub="registry", role=Role.SCHOOL, code=school)
    record.do(
        d.AssignSupplementaryNumber(operator=by, reason="R07", school_year=year, numbering=numbering, sequence=sequence)
    )


def freshman(grade: int = 7, by: OperatorClaims = JUNIOR_CLERK) -> d.RegisterFreshman:
    return d.RegisterFreshman(
        operator=by, reason="初一新生注册", school_code=by.code, segment=d.Segment.JUNIOR, grade=grade,
        admitted_on=date(2025, 9, 1),
    )  # fmt: skip


def primary_graduate() -> Record:
    record = Record(d.Segment.PRIMARY, grade=6)
    numbered(record, "3506020001", 5)
    record.ask(graduation(), days=280)  # a primary diploma: the principal signs, at once
    assert record.now.state is StatusState.GRADUATED
    return record


def test_r07_a_primary_graduate_registered_as_junior_freshman_gets_a_junior_number_and_keeps_the_primary_one() -> None:
    record = primary_graduate()
    primary_number = record.now.supplementary_numbers[d.Segment.PRIMARY]
    [registered] = record.do(freshman(), days=360)
    assert isinstance(registered, FreshmanRegistered)
    assert (registered.previous_school, registered.previous_segment) == ("3506020001", d.Segment.PRIMARY)
    now = record.now
    assert (now.state, now.school_code, now.segment, now.grade, now.graduation_grade) == (
        StatusState.ENROLLED, JUNIOR_SCHOOL, d.Segment.JUNIOR, 7, 9
    )  # fmt: skip
    assert now.status_number == Record(d.Segment.PRIMARY, grade=6).now.status_number  # one person, one number (R01)
    numbered(record, JUNIOR_SCHOOL, 1, year=2025)
    junior_number = record.now.supplementary_numbers[d.Segment.JUNIOR]
    assert junior_number.startswith("225") and len(junior_number) == 11  # junior layout, school year 2025
    assert record.now.supplementary_numbers[d.Segment.PRIMARY] == primary_number  # kept in the record's history
    with pytest.raises(d.Refused):  # the junior number does not change while the student studies junior high here
        numbered(record, JUNIOR_SCHOOL, 2, year=2025)


def test_r07_only_a_student_who_finished_the_earlier_segment_moves_on_to_a_later_one() -> None:
    with pytest.raises(d.IllegalTransition) as enrolled:
        Record(d.Segment.PRIMARY, grade=6).do(freshman())
    assert enrolled.value.rule == "R07"
    record = primary_graduate()
    with pytest.raises(d.Refused) as same:
        record.do(d.RegisterFreshman(operator=SCHOOL_CLERK, reason="x", school_code=SCHOOL_CLERK.code,
                                   segment=d.Segment.PRIMARY, grade=1, admitted_on=date(2025, 9, 1)))  # fmt: skip
    assert (same.value.rule, same.value.field) == ("R07", "segment")
    county = OperatorClaims(sub="county-1", role=Role.COUNTY, code="350602")
    with pytest.raises(d.OutsideJurisdiction):  # R50: the freshman's own school registers the student
        record.do(d.RegisterFreshman(operator=county, reason="x", school_code=JUNIOR_SCHOOL, segment=d.Segment.JUNIOR,
                                   grade=7, admitted_on=date(2025, 9, 1)))  # fmt: skip


OTHER_ID = resident_id(sequence="456")


def test_r05_a_g_number_changed_by_re_application_is_valid_and_recorded_with_its_approval() -> None:
    record = FormalRecord()
    before = record.now.status_number
    reapply = ReapplyFormalNumber(number="G" + OTHER_ID, special_case="原G号与他人冲突，经省级核实重新申请")
    record.ask(reapply, E.WRITTEN_APPLICATION)
    assert record.now.status_number == before  # nothing before the county and the national checks
    record.review()
    record.national(d.CheckOutcome.PASSED, d.CheckOutcome.PASSED)
    changed = record.events[-1]
    assert isinstance(changed, StatusNumberChanged) and changed.cause.value == "reapplied"
    assert changed.change_id is not None and changed.previous == before and changed.number == "G" + OTHER_ID
    approval = next(e for e in record.events if e.type == "change_approved")
    assert approval.by.role is Role.COUNTY  # the approval is on the record, with who gave it
    assert record.now.status_number == "G" + OTHER_ID != "G" + record.now.identity.id_number
    assert before in record.now.previous_numbers
    assert d.g_number_discrepancy(record.now) is None  # valid: changed by re-application, needs no correction


def test_r05_re_application_needs_a_g_number_the_application_and_passing_checks() -> None:
    with pytest.raises(d.Refused) as l_number:
        FormalRecord(formal=False).ask(ReapplyFormalNumber(special_case="x"), E.WRITTEN_APPLICATION)
    assert l_number.value.rule == "R05"
    with pytest.raises(d.Refused) as no_form:
        FormalRecord().ask(ReapplyFormalNumber(number="G" + NEW_ID, special_case="x"))
    assert no_form.value.field == "evidence"
    record = FormalRecord()
    record.ask(ReapplyFormalNumber(number="G" + NEW_ID, special_case="x"), E.WRITTEN_APPLICATION)
    record.review()
    record.national(d.CheckOutcome.FAILED, d.CheckOutcome.PASSED)
    assert record.now.status_number == "G" + resident_id()  # not applied
    with pytest.raises(ValueError, match="invalid resident ID"):
        ReapplyFormalNumber(number="G350602201503151230", special_case="x")

"""R45: "for migrant children the file is handed to the household-register county at semester end" (002 III.13: the
county bureau in charge of the school's registration hands it over). The record keeps the receiving county and the
school's county bureau has a hand-over deadline at semester end naming it, met when it records the hand-over. Pure
domain."""

from __future__ import annotations

from datetime import date

import pytest
from record_fixtures import COUNTY_CLERK, SCHOOL_CLERK, T0, evidence
from test_domain_lifecycle import E, Record

from xueji_contracts.auth import OperatorClaims, Role
from xueji_contracts.messages.registry import ComplianceDeadlineChanged, ComplianceState
from xueji_registry import compliance
from xueji_registry import domain as d
from xueji_registry.domain.compliance import Deadline, DeadlineKind, changes, deadlines_of, still_due
from xueji_registry.domain.record_events import FileHandedOver

HOUSEHOLD_COUNTY = "360702"


def migrant_dropout(since: date = date(2024, 8, 27), days: int = 0) -> tuple[Record, d.StudentStatus]:
    """A junior pupil of SCHOOL (county 350602) whose household is registered in HOUSEHOLD_COUNTY drops out."""
    record = Record(d.Segment.JUNIOR, grade=8)
    before = record.now
    absence = d.AbsenceDropout(absent_since=since, contact_attempts=3, migrant_household_county=HOUSEHOLD_COUNTY)
    record.ask(absence, E.CONTACT_RECORD, days=days)
    return record, before


def handover(state: d.StudentStatus) -> list[Deadline]:
    return [x for x in deadlines_of(state).values() if x.kind is DeadlineKind.FILE_HANDOVER]


def test_r45_a_migrant_dropout_s_file_hand_over_is_due_at_the_end_of_the_autumn_semester() -> None:
    record, before = migrant_dropout()
    dropout = record.now.dropout
    assert dropout is not None and dropout.status_retained
    assert dropout.migrant_household_county == HOUSEHOLD_COUNTY  # the record keeps where the file goes
    opened, _ = changes(before, record.now)
    [deadline] = [x for x in opened if x.kind is DeadlineKind.FILE_HANDOVER]
    assert (deadline.rule, deadline.due_on, deadline.receiving_county) == ("R45", date(2025, 1, 31), HOUSEHOLD_COUNTY)
    assert deadline.jurisdiction == "350602"  # the school's county bureau hands the file over
    assert deadline.bureau == "350600"  # the city bureau hears if it is overdue
    assert deadline.deadline_id == "stu-1:R45:file_handover:2024-09-10"
    assert still_due(DeadlineKind.FILE_HANDOVER, record.now)


def test_r45_a_spring_dropout_s_file_is_handed_over_by_the_end_of_july() -> None:
    record, _ = migrant_dropout(since=date(2025, 3, 3), days=200)  # reported on 2025-03-29
    [deadline] = handover(record.now)
    assert deadline.due_on == date(2025, 7, 31)


@pytest.mark.parametrize("segment", [d.Segment.PRIMARY, d.Segment.JUNIOR])
def test_r45_a_dropout_without_a_household_register_elsewhere_has_no_hand_over(segment: d.Segment) -> None:
    record = Record(segment, grade=5 if segment is d.Segment.PRIMARY else 8)
    record.ask(d.AbsenceDropout(absent_since=date(2024, 8, 27), contact_attempts=3), E.CONTACT_RECORD)
    assert record.now.dropout is not None and record.now.dropout.migrant_household_county is None
    assert handover(record.now) == []


def test_r45_a_migrant_child_who_resumes_makes_the_hand_over_moot() -> None:
    record, _ = migrant_dropout()
    dropped = record.now
    record.change(d.ResumeAfterDropout(), E.WRITTEN_APPLICATION, days=30)
    _, met = changes(dropped, record.now)
    assert [x.kind for x in met] == [DeadlineKind.FILE_HANDOVER]
    assert not still_due(DeadlineKind.FILE_HANDOVER, record.now)


def file_handover(operator: OperatorClaims = COUNTY_CLERK) -> d.RecordFileHandover:
    return d.RecordFileHandover(operator=operator, reason="学籍档案已移交", evidence=evidence(E.SUPPORTING_DOCUMENT))


def test_r45_the_school_s_county_bureau_records_the_hand_over_which_meets_the_deadline() -> None:
    record, _ = migrant_dropout()
    dropped = record.now
    with pytest.raises(d.OutsideJurisdiction):  # 002 III.13: the bureau hands the file over, not the school
        record.do(file_handover(SCHOOL_CLERK), days=100)
    with pytest.raises(d.OutsideJurisdiction):  # nor does the receiving county record it
        record.do(file_handover(OperatorClaims(sub="county-7", role=Role.COUNTY, code=HOUSEHOLD_COUNTY)), days=100)
    [handed] = record.do(file_handover(), days=100)
    assert isinstance(handed, FileHandedOver) and handed.receiving_county == HOUSEHOLD_COUNTY
    assert record.now.dropout is not None and record.now.dropout.file_handed_over_on == date(2024, 12, 19)
    _, met = changes(dropped, record.now)
    assert [x.kind for x in met] == [DeadlineKind.FILE_HANDOVER]
    assert not still_due(DeadlineKind.FILE_HANDOVER, record.now)
    with pytest.raises(d.Refused, match="already handed over"):
        record.do(file_handover(), days=101)


def test_r45_no_hand_over_is_recorded_for_a_student_with_no_migrant_file() -> None:
    record = Record(d.Segment.JUNIOR, grade=8)
    with pytest.raises(d.Refused) as refused:
        record.do(file_handover())
    assert refused.value.rule == "R45"


def test_r45_the_compliance_message_names_the_receiving_county_also_when_its_timer_fires() -> None:
    record, _ = migrant_dropout()
    [deadline] = handover(record.now)
    overdue = compliance._timers(deadline)[-1]
    assert compliance._deadline_of(overdue) == deadline  # the timer keeps the receiving county
    message = compliance._message("35", deadline, ComplianceState.OVERDUE, T0).message.payload
    assert isinstance(message, ComplianceDeadlineChanged)
    assert (message.kind, message.jurisdiction, message.flagged_to) == ("file_handover", "350602", "350600")
    assert message.receiving_county == HOUSEHOLD_COUNTY

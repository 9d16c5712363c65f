"""R45 unexcused absence and its written-report deadline; R54 annual rosters and theirs (pure domain)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from province_rules import handle
from registry_driver import CST, SCHOOL, SCHOOL_CLERK, T0, enrolled, enrollment, evidence

from xueji_contracts.auth import OperatorClaims, Role
from xueji_registry.domain import (
    EndAbsence,
    EvidenceKind,
    RecordAbsence,
    RecordTransferIn,
    Refused,
    RequestChange,
    Segment,
)
from xueji_registry.domain.annual_roster import compose
from xueji_registry.domain.compliance import DeadlineKind, annual_roster, changes, still_due
from xueji_registry.domain.events import to_documents
from xueji_registry.domain.status_changes import AbsenceDropout

COUNTY_CLERK = OperatorClaims(sub="county-1", role=Role.COUNTY, code="350602")
OTHER_SCHOOL = "3506020002"
SINCE = date(2026, 10, 12)


def _absent():
    before = enrolled()
    absent, events = handle(
        RecordAbsence(operator=SCHOOL_CLERK, reason="连续未到校", absent_since=SINCE), before, T0 + timedelta(days=42)
    )
    assert absent is not None and [e.type for e in events] == ["absence_recorded"]
    return before, absent


def test_r45_recording_an_absence_opens_the_written_report_deadline_three_weeks_on():
    before, absent = _absent()
    opened, met = changes(before, absent)
    [report] = [d for d in opened if d.kind is DeadlineKind.ABSENCE_REPORT]
    assert (report.rule, report.due_on, report.bureau) == ("R45", date(2026, 11, 2), "350602")
    assert report.deadline_id == "stu-1:R45:2026-10-12"  # a later absence is a deadline of its own
    assert met == [] and still_due(DeadlineKind.ABSENCE_REPORT, absent)


def test_r45_reporting_the_absence_as_dropout_meets_the_deadline():
    _, absent = _absent()
    report = RequestChange(
        operator=SCHOOL_CLERK,
        reason="无故缺课两周，多次联系无果",
        details=AbsenceDropout(absent_since=SINCE, contact_attempts=3),
        evidence=(evidence(EvidenceKind.CONTACT_RECORD),),
    )
    reported, _ = handle(report, absent, datetime(2026, 10, 28, 9, tzinfo=CST))
    assert reported is not None
    _, met = changes(absent, reported)
    assert [d.kind for d in met] == [DeadlineKind.ABSENCE_REPORT]
    assert not still_due(DeadlineKind.ABSENCE_REPORT, reported)


def test_r45_a_student_who_returns_ends_the_absence_and_its_deadline():
    _, absent = _absent()
    back, events = handle(
        EndAbsence(operator=SCHOOL_CLERK, reason="已返校", returned_on=date(2026, 10, 15)),
        absent,
        datetime(2026, 10, 15, 9, tzinfo=CST),
    )
    assert back is not None and back.absent_since is None and events[0].type == "absence_ended"
    _, met = changes(absent, back)
    assert [d.kind for d in met] == [DeadlineKind.ABSENCE_REPORT]
    with pytest.raises(Refused, match="no absence"):
        handle(EndAbsence(operator=SCHOOL_CLERK, reason="x", returned_on=date(2026, 10, 16)), back, T0 + timedelta(60))


def test_r45_absence_is_refused_twice_in_the_future_or_with_a_return_before_it_began():
    _, absent = _absent()
    with pytest.raises(Refused, match="already recorded") as twice:
        handle(RecordAbsence(operator=SCHOOL_CLERK, reason="x", absent_since=SINCE), absent, T0 + timedelta(days=43))
    assert (twice.value.rule, twice.value.field) == ("R45", "absent_since")
    with pytest.raises(Refused, match="future") as future:
        handle(RecordAbsence(operator=SCHOOL_CLERK, reason="x", absent_since=date(2027, 1, 4)), enrolled(), T0)
    assert future.value.field == "absent_since"
    with pytest.raises(Refused, match="between") as early:
        handle(EndAbsence(operator=SCHOOL_CLERK, reason="x", returned_on=date(2026, 10, 1)), absent, T0 + timedelta(50))
    assert early.value.field == "returned_on"


def test_r45_absence_counts_toward_dropout_in_senior_high_too():
    """R45 as decided (002 III.13, IV.5(8)): every segment; it used to be refused outside compulsory education."""
    senior = enrolled().model_copy(update={"segment": Segment.SENIOR, "grade": 10, "graduation_grade": 12})
    absent, events = handle(
        RecordAbsence(operator=SCHOOL_CLERK, reason="x", absent_since=SINCE), senior, T0 + timedelta(days=42)
    )
    assert absent is not None and absent.absent_since == SINCE
    assert [e.type for e in events] == ["absence_recorded"]


def test_r54_annual_rosters_are_due_one_month_after_the_school_year_starts():
    deadline = annual_roster(SCHOOL, 2026)
    assert (deadline.kind, deadline.rule, deadline.due_on) == (DeadlineKind.ANNUAL_ROSTER, "R54", date(2026, 10, 1))
    assert deadline.subject_id == f"roster:{SCHOOL}:2026" and deadline.bureau == "350602"
    assert deadline.due_at == datetime(2026, 10, 2, tzinfo=CST)


def test_r54_rosters_list_new_students_and_each_school_s_increases_and_decreases():
    state, enrolled_by = enrollment()
    transfer = RecordTransferIn(operator=COUNTY_CLERK, reason="转学", transfer_id="t-1", receiving_school=OTHER_SCHOOL)
    moved, transferred_by = handle(transfer, state, datetime(2026, 11, 5, 10, tzinfo=CST))
    assert moved is not None
    records = [(moved, to_documents(enrolled_by + transferred_by))]
    here = compose(SCHOOL, 2026, records)
    assert [(line.student_id, line.change) for line in here.new_students] == [("stu-1", "new")]
    assert [(line.change, line.on) for line in here.decreases] == [("transferred_away", date(2026, 11, 5))]
    assert here.increases == [] and here.on_register == 0
    assert "*" in here.new_students[0].status_number_masked  # R52: no raw number leaves the registry
    there = compose(OTHER_SCHOOL, 2026, records)
    assert there.new_students == [] and [line.change for line in there.increases] == ["transferred_in"]
    assert there.counts == {"new_students": 0, "increases": 1, "decreases": 0, "on_register": 1}
    assert compose(SCHOOL, 2027, records).counts == {
        "new_students": 0,
        "increases": 0,
        "decreases": 0,
        "on_register": 0,
    }

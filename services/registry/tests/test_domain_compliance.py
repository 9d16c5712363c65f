"""Compliance deadlines a change opens or meets: the status file (R02) and a death's cancellation (R44)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from province_rules import handle
from registry_driver import CST, SCHOOL_CLERK, T0, enrolled, evidence

from xueji_contracts.auth import OperatorClaims, Role
from xueji_registry.domain import (
    CompleteStatusFile,
    EvidenceKind,
    Refused,
    RequestChange,
    ReviewChange,
    StudentStatus,
)
from xueji_registry.domain.compliance import DeadlineKind, changes, still_due
from xueji_registry.domain.status_changes import Death

COUNTY_CLERK = OperatorClaims(sub="county-1", role=Role.COUNTY, code="350602")


def test_r02_enrollment_opens_the_status_file_deadline_one_month_after_admission():
    after = enrolled()
    opened, met = changes(None, after)
    assert met == []
    [deadline] = opened
    assert (deadline.kind, deadline.rule, deadline.due_on) == (DeadlineKind.STATUS_FILE, "R02", date(2026, 10, 1))
    assert deadline.due_at == datetime(2026, 10, 2, 0, 0, tzinfo=CST)  # 24:00 Beijing time of the last day
    assert deadline.bureau == "350602"  # overdue is flagged to the county bureau
    assert deadline.warn_at < deadline.due_at


def test_r02_recording_the_established_file_meets_the_deadline_once():
    before = enrolled()
    file = CompleteStatusFile(
        operator=SCHOOL_CLERK, reason="档案已建立", evidence=(evidence(EvidenceKind.STATUS_FILE),)
    )
    after, events = handle(file, before, T0 + timedelta(days=10))
    assert after is not None and [e.type for e in events] == ["status_file_completed"]
    opened, met = changes(before, after)
    assert opened == [] and [d.kind for d in met] == [DeadlineKind.STATUS_FILE]
    assert not still_due(DeadlineKind.STATUS_FILE, after)
    with pytest.raises(Refused, match="already established"):
        handle(file, after, T0 + timedelta(days=11))


def test_r02_the_file_is_completed_on_the_china_date_it_was_recorded():
    file = CompleteStatusFile(
        operator=SCHOOL_CLERK, reason="档案已建立", evidence=(evidence(EvidenceKind.STATUS_FILE),)
    )
    at_seven_in_fuzhou = datetime(2026, 10, 8, 7, 0, tzinfo=CST).astimezone(UTC)  # the service's clock: UTC, 7 October
    after, _ = handle(file, enrolled(), at_seven_in_fuzhou)
    assert after is not None and after.status_file_completed_on == date(2026, 10, 8)


def test_r02_the_file_is_recorded_with_its_reference_by_the_school():
    with pytest.raises(Refused, match="status_file") as refused:
        handle(CompleteStatusFile(operator=SCHOOL_CLERK, reason="档案已建立"), enrolled(), T0)
    assert refused.value.field == "evidence"


def _death_reported() -> tuple[StudentStatus, StudentStatus]:
    """The record before and after the school reports the student's death on 2026-10-20."""
    state = enrolled()
    report = RequestChange(
        operator=SCHOOL_CLERK, reason="学生因病去世", evidence=(evidence(EvidenceKind.DEATH_CERTIFICATE),),
        details=Death(date_of_death=date(2026, 10, 20)),
    )  # fmt: skip
    reported, _ = handle(report, state, T0 + timedelta(days=50))
    assert reported is not None
    return state, reported


def test_r44_reporting_a_death_opens_a_one_month_deadline_met_when_the_county_cancels_the_status():
    state, reported = _death_reported()
    opened, _ = changes(state, reported)
    [death] = [d for d in opened if d.kind is DeadlineKind.DEATH_CANCELLATION]
    assert (death.rule, death.due_on) == ("R44", date(2026, 11, 20))
    change_id = reported.pending[-1].change_id
    cancelled, _ = handle(
        ReviewChange(operator=COUNTY_CLERK, reason="核实", change_id=change_id, approve=True),
        reported,
        T0 + timedelta(days=52),
    )
    assert cancelled is not None and cancelled.state.value == "deceased"
    _, met = changes(reported, cancelled)
    assert DeadlineKind.DEATH_CANCELLATION in [d.kind for d in met]
    assert not still_due(DeadlineKind.DEATH_CANCELLATION, cancelled)


def test_r44_a_rejected_cancellation_leaves_the_deadline_running():
    _, reported = _death_reported()
    change_id = reported.pending[-1].change_id
    rejected, _ = handle(
        ReviewChange(operator=COUNTY_CLERK, reason="证明不清", change_id=change_id, approve=False),
        reported,
        T0 + timedelta(days=52),
    )
    assert rejected is not None
    opened, met = changes(reported, rejected)
    assert DeadlineKind.DEATH_CANCELLATION not in [d.kind for d in opened + met]
    assert still_due(DeadlineKind.DEATH_CANCELLATION, rejected)  # its armed timer will still fire

"""R03: the spring G-number batch's stream as a typed aggregate: the report from who was asked and each answer, and
batches stored before its events were typed (type names asked, issued, held) still reporting (pure domain)."""

from __future__ import annotations

from datetime import UTC, datetime

from xueji_registry.domain.event_base import to_document
from xueji_registry.domain.formal_number_batch import (
    FormalNumberHeld,
    FormalNumberIssued,
    FormalNumbersAsked,
    from_documents,
    replay,
)

T0 = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
REPORT = {
    "batch_id": "2026-350602",
    "asked": 3,
    "issued": ["stu-a"],
    "held": [{"student_id": "stu-b", "reason": "R03: the population register does not match"}],
    "waiting": ["stu-c"],
}


def test_r03_the_report_lists_each_student_asked_once_issued_held_with_the_reason_or_waiting() -> None:
    events = [
        FormalNumbersAsked(students=("stu-a", "stu-b"), by="county-1", at=T0),
        FormalNumbersAsked(students=("stu-b", "stu-c"), by="county-1", at=T0),  # started again: nobody twice
        FormalNumberHeld(student_id="stu-a", reason="R03: asked again"),
        FormalNumberIssued(student_id="stu-a"),  # the latest answer stands
        FormalNumberHeld(student_id="stu-b", reason="R03: the population register does not match"),
    ]
    assert replay(from_documents(to_document(e) for e in events)).report("2026-350602") == REPORT


def test_r03_events_keep_their_stored_shape_under_the_new_names() -> None:
    asked = to_document(FormalNumbersAsked(students=("stu-a",), by="county-1", at=T0))
    assert asked == {"type": "FormalNumbersAsked", "students": ["stu-a"], "by": "county-1", "at": T0.isoformat()}
    issued = to_document(FormalNumberIssued(student_id="stu-a"))
    assert issued == {"type": "FormalNumberIssued", "student_id": "stu-a", "reason": "issued"}


def test_r03_a_batch_stored_before_issue_17_with_the_old_type_names_still_reports() -> None:
    old = [
        {"type": "asked", "students": ["stu-a", "stu-b", "stu-c"], "by": "county-1", "at": "2027-03-01T08:00:00+00:00"},
        {"type": "issued", "student_id": "stu-a", "reason": "issued"},
        {"type": "held", "student_id": "stu-b", "reason": "R03: the population register does not match"},
    ]
    assert replay(from_documents(old)).report("2026-350602") == REPORT

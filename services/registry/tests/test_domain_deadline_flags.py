"""R02, R44, R54: a compliance deadline's stream as a typed aggregate: warned once, flagged overdue at each breach
timer; streams stored before its events were typed (type names due_soon, overdue) still read (pure domain)."""

from __future__ import annotations

from datetime import UTC, datetime

from xueji_registry.domain.deadline_flags import (
    DeadlineDueSoonFlagged,
    DeadlineOverdueFlagged,
    decide_flag,
    from_documents,
)
from xueji_registry.domain.event_base import to_document

T0 = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
DEADLINE = "stu_1:R02"


def test_r02_a_deadline_is_warned_once_and_flagged_overdue_when_its_breach_timer_fires() -> None:
    [warned] = decide_flag([], "due_soon", DEADLINE, T0)
    assert isinstance(warned, DeadlineDueSoonFlagged)
    assert decide_flag([warned], "due_soon", DEADLINE, T0) == []  # a second warning timer says nothing new
    [overdue] = decide_flag([warned], "overdue", DEADLINE, T0)
    assert isinstance(overdue, DeadlineOverdueFlagged)
    assert to_document(overdue) == {"type": "DeadlineOverdueFlagged", "deadline_id": DEADLINE, "at": T0.isoformat()}


def test_r02_a_deadline_stream_stored_before_issue_17_with_snake_case_types_still_reads() -> None:
    old = [
        {"type": "due_soon", "deadline_id": DEADLINE, "at": "2026-09-24T08:00:00+00:00"},
        {"type": "overdue", "deadline_id": DEADLINE, "at": "2026-10-01T08:00:00+00:00"},
    ]
    history = from_documents(old)
    assert [type(e) for e in history] == [DeadlineDueSoonFlagged, DeadlineOverdueFlagged]
    assert decide_flag(history, "due_soon", DEADLINE, T0) == []
    assert {k: v for k, v in to_document(history[1]).items() if k != "type"} == {
        k: v for k, v in old[1].items() if k != "type"
    }


def test_r54_a_deadline_opened_already_past_due_is_flagged_overdue_without_a_due_soon_warning() -> None:
    """Both of its timers are past due when armed and fire at once: the warning says nothing the breach does not."""
    assert decide_flag([], "due_soon", DEADLINE, T0, due_at=T0) == []
    assert decide_flag([], "due_soon", DEADLINE, T0, due_at=datetime(2026, 10, 2, tzinfo=UTC)) != []

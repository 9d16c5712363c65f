"""The dashboard's stage projection: which fields each event sets, and the state they add up to (R22, R23).

Stage messages (opened, deadline changed, closed) and SLA messages (warning, breach) arrive on different
topics, so each writes only its own fields and the state is derived from all of them on read: a breach
counts only for the deadline it was raised against, so a reopened stage or a moved deadline starts clean.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from xueji_contracts.messages.transfer import (
    StageBreached,
    StageClosed,
    StageDeadlineChanged,
    StageOpened,
    StageWarning,
)
from xueji_notify.domain.calendar import WorkingDays, due_day, working_days_left
from xueji_notify.domain.jurisdiction import ancestors, node_of

Fields = dict[str, Any]


def stage_key(transfer_id: str, stage: str) -> str:
    return f"{transfer_id}:{stage}"


def identity(p: StageOpened | StageDeadlineChanged | StageClosed | StageWarning | StageBreached) -> Fields:
    node = node_of(p.jurisdiction)
    fields: Fields = {
        "transfer_id": p.transfer_id,
        "stage": p.stage.value,
        "jurisdiction": p.jurisdiction,
        "node": node,
        "scopes": ancestors(node),
    }
    # Set only when sent: a message without it (an older producer) never erases a number already known.
    return fields | ({"case_number": p.case_number} if p.case_number else {})


def opened(p: StageOpened) -> Fields:
    d = p.deadline
    return identity(p) | {
        "open": True,
        "step": p.step,
        "opened_at": d.opened_at,
        "due_at": d.due_at,
        "warn_at": d.warn_at,
        "provisional": d.provisional,
        "calendar_version": d.calendar_version,
        "student_id": p.student_id,
        "sending_school": p.sending_school,
        "receiving_school": p.receiving_school,
        "interprovincial": p.interprovincial,
        "closed_at": None,
        "decision": None,
        "decided_by": None,
        "reason": None,
    }


def deadline_changed(p: StageDeadlineChanged) -> Fields:
    d = p.deadline
    return identity(p) | {
        "due_at": d.due_at,
        "warn_at": d.warn_at,
        "provisional": d.provisional,
        "calendar_version": d.calendar_version,
        "previous_due_at": p.previous.due_at,
    }


def closed(p: StageClosed) -> Fields:
    return identity(p) | {
        "open": False,
        "closed_at": p.decided_at,
        "decision": p.decision.value,
        "decided_by": p.decided_by,
        "reason": p.reason,
    }


def warned(p: StageWarning, at: datetime) -> Fields:
    return identity(p) | {"warned_due_at": p.due_at, "warned_at": at}


def breached(p: StageBreached, at: datetime) -> Fields:
    return identity(p) | {
        "breach_due_at": p.due_at,
        "breached_at": at,
        "escalated_to": p.escalated_to,
        "escalated_to_node": node_of(p.escalated_to),
        "escalated_to_level": p.escalated_to_level.value,
        "escalation_count": p.escalation_count,
    }


def _same(a: datetime | None, b: datetime | None) -> bool:
    return a is not None and b is not None and abs(a - b) < timedelta(seconds=1)


def is_open(doc: Mapping[str, Any]) -> bool:
    """Open once opened and not closed since; a stage only the SLA topic has told us of counts as open."""
    return bool(doc.get("open", True))


def is_breached(doc: Mapping[str, Any]) -> bool:
    if not is_open(doc) or doc.get("breach_due_at") is None:
        return False
    return doc.get("due_at") is None or _same(doc["breach_due_at"], doc["due_at"])


def is_warned(doc: Mapping[str, Any]) -> bool:
    return is_open(doc) and _same(doc.get("warned_due_at"), doc.get("due_at"))


@dataclass(frozen=True)
class StageView:
    """One stage as an operator sees it on a given day."""

    key: str
    transfer_id: str
    case_number: str | None
    stage: str
    step: int | None
    jurisdiction: str
    state: str  # open, warned, breached, closed
    opened_at: datetime | None
    due_at: datetime | None
    due_day: date | None
    working_days_left: int | None
    provisional: bool
    escalated_to: str | None
    escalated_to_level: str | None
    escalation_count: int
    decision: str | None

    def urgency(self) -> tuple[int, int, int, str]:
        """Breached first (most escalated first), then fewest working days left, then earliest due."""
        rank = {"breached": 0, "warned": 1, "open": 2}.get(self.state, 3)
        left = self.working_days_left if self.working_days_left is not None else 10_000
        return rank, -self.escalation_count, left, self.due_at.isoformat() if self.due_at else "~"


def view(doc: Mapping[str, Any], today: date, calendar: WorkingDays) -> StageView:
    due = doc.get("due_at")
    state = "closed"
    if is_open(doc):
        state = "breached" if is_breached(doc) else "warned" if is_warned(doc) else "open"
    return StageView(
        key=stage_key(doc["transfer_id"], doc["stage"]),
        transfer_id=doc["transfer_id"],
        case_number=doc.get("case_number"),
        stage=doc["stage"],
        step=doc.get("step"),
        jurisdiction=doc["jurisdiction"],
        state=state,
        opened_at=doc.get("opened_at"),
        due_at=due,
        due_day=due_day(due) if due else None,
        working_days_left=working_days_left(calendar, today, due_day(due)) if due else None,
        provisional=bool(doc.get("provisional", False)),
        escalated_to=doc.get("escalated_to") if state == "breached" else None,
        escalated_to_level=doc.get("escalated_to_level") if state == "breached" else None,
        escalation_count=int(doc.get("escalation_count") or 0) if state == "breached" else 0,
        decision=doc.get("decision"),
    )

"""One check's stream: forwarded, answered once, and a possible duplicate reviewed once by its county (R14, R50)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

Event = dict[str, Any]


class ReviewRefused(Exception):
    """A review decision that may not be recorded; `status` is the HTTP status that says why."""

    status = 409

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class CaseNotFound(ReviewRefused):
    status = 404


class NotTheCountyOfTheCase(ReviewRefused):
    status = 403


class AlreadyDecidedError(ReviewRefused):
    """The decision stands permanently (R12); a second one is refused."""


def check_stream(correlation_id: uuid.UUID) -> str:
    """A check's stream is named by the request's correlation id: a repeated request finds it answered."""
    return f"check:{correlation_id}"


def case_id_for(correlation_id: uuid.UUID) -> str:
    return f"rc_{correlation_id.hex}"


def stream_of_case(case_id: str) -> str:
    """The check stream a review case lives in; CaseNotFound for an id no case can have."""
    try:
        return check_stream(uuid.UUID(hex=case_id.removeprefix("rc_")))
    except ValueError:
        raise CaseNotFound(f"no review case {case_id}") from None


@dataclass(frozen=True, slots=True)
class CheckState:
    forwarded: Event | None = None  # sent on to the national tier, waiting for its answer
    answered: Event | None = None
    case: Event | None = None  # ReviewCaseOpened
    decision: Event | None = None  # ReviewDecided


def state_of(history: list[Event]) -> CheckState:
    found: dict[str, Event] = {}
    for event in history:
        found.setdefault(event["type"], event)
    return CheckState(
        forwarded=found.get("CheckForwarded"),
        answered=found.get("CheckAnswered"),
        case=found.get("ReviewCaseOpened"),
        decision=found.get("ReviewDecided"),
    )


def decide_forward(history: list[Event], forwarded: Event) -> list[Event]:
    """Forward once; a check already forwarded or answered records nothing more."""
    state = state_of(history)
    return [] if state.forwarded or state.answered else [forwarded]


def decide_answer(history: list[Event], answered: Event, case: Event | None) -> list[Event]:
    """A check is answered once (R01: a redelivered or repeated request changes nothing)."""
    if state_of(history).answered is not None:
        return []
    return [answered] + ([case] if case is not None else [])


def decide_review(
    history: list[Event], *, decision: str, by: Event, county_code: str, reason: str, at: datetime
) -> list[Event]:
    """The county bureau of the case decides, once, with its reason (R14, R50); the decision is permanent."""
    state = state_of(history)
    if state.case is None:
        raise CaseNotFound("no review case for this check")
    if state.case["case"]["county_code"] != county_code:
        raise NotTheCountyOfTheCase(f"the case belongs to county {state.case['case']['county_code']}")
    if state.decision is not None:
        earlier = state.decision
        raise AlreadyDecidedError(f"already decided {earlier['decision']} by {earlier['by']['sub']} at {earlier['at']}")
    return [{"type": "ReviewDecided", "decision": decision, "by": by, "reason": reason, "at": at.isoformat()}]

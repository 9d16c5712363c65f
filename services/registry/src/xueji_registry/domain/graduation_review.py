"""R46: a graduation roster's own stream (`graduation:{school}:{year}:{segment}`) as a typed aggregate.

The school submits the roster; the county bureau returns it with a reason (the school submits again) or approves it;
the approval's outcome (who was graduated, who not and why) is recorded after the graduations. `decide_*` say what
a submission or review records, or refuse it naming R46; `apply` folds an event into the roster's state.

Stored events keep their shape. Their type names were snake case until issue 17 (`graduation_roster_submitted`,
...); `from_documents` reads those as the PascalCase events they are now, so a stream stored before still replays.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from functools import reduce
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from xueji_contracts.auth import OperatorClaims
from xueji_registry.domain.errors import Refused
from xueji_registry.domain.event_base import Actor, StreamEvent, StreamEvents
from xueji_registry.domain.evidence import EvidenceRef
from xueji_registry.domain.graduation_roster import GraduationRoster

# The type names stored before issue 17, read as the events they are now.
OLD_NAMES = {
    "graduation_roster_submitted": "GraduationRosterSubmitted",
    "graduation_roster_returned": "GraduationRosterReturned",
    "graduation_roster_approved": "GraduationRosterApproved",
    "graduation_roster_outcome": "GraduationOutcomeRecorded",
}


STREAMS = "graduation:"  # every roster's stream begins with it: graduation:{school}:{year}:{segment}


class RosterStatus(StrEnum):
    DRAFT = "draft"  # nothing submitted yet: the roster as it would be composed now
    SUBMITTED = "submitted"  # awaiting the county bureau
    RETURNED = "returned"  # the bureau sent it back with a reason; the school submits again
    APPROVED = "approved"


class GraduationRosterSubmitted(StreamEvent):
    type: Literal["GraduationRosterSubmitted"] = "GraduationRosterSubmitted"
    roster: GraduationRoster
    sha256: str
    operator: OperatorClaims  # the school's clerk: the graduations are requested in their name
    by: Actor
    reason: str
    evidence: tuple[EvidenceRef, ...] = ()


class _Reviewed(StreamEvent):
    by: Actor
    operator: OperatorClaims
    reason: str
    sha256: str  # the submission reviewed


class GraduationRosterReturned(_Reviewed):
    type: Literal["GraduationRosterReturned"] = "GraduationRosterReturned"


class GraduationRosterApproved(_Reviewed):
    type: Literal["GraduationRosterApproved"] = "GraduationRosterApproved"


class NotGraduated(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    student_id: str
    reason: str


class GraduationOutcomeRecorded(StreamEvent):
    """After an approval (or its resumption): how many were graduated, who was not and why."""

    type: Literal["GraduationOutcomeRecorded"] = "GraduationOutcomeRecorded"
    graduated: int = Field(ge=0)
    not_graduated: tuple[NotGraduated, ...] = ()
    certificates: dict[str, str] = Field(default_factory=dict)  # R08: student id -> the number the approval drew


RosterEvent = Annotated[
    GraduationRosterSubmitted | GraduationRosterReturned | GraduationRosterApproved | GraduationOutcomeRecorded,
    Field(discriminator="type"),
]
_EVENTS = StreamEvents[RosterEvent](TypeAdapter(RosterEvent), OLD_NAMES)
from_documents = _EVENTS.from_documents


@dataclass(frozen=True)
class RosterReview:
    """The roster's state: its status, the latest submission and review, how often it was submitted."""

    status: RosterStatus = RosterStatus.DRAFT
    submission: GraduationRosterSubmitted | None = None
    review: GraduationRosterReturned | GraduationRosterApproved | None = None
    submissions: int = 0
    graduated: int | None = None  # as the latest outcome found; None before one
    certificates: Mapping[str, str] = field(default_factory=dict)  # R08: as the latest outcome found

    def numbered(self, roster: GraduationRoster) -> GraduationRoster:
        """The roster with the certificate numbers its approval drew (R08), where the outcome names them."""
        lines = [
            g.model_copy(update={"certificate_number": self.certificates.get(g.student_id, g.certificate_number)})
            for g in roster.graduates
        ]
        return roster.model_copy(update={"graduates": lines})


def apply(state: RosterReview, event: RosterEvent) -> RosterReview:
    match event:
        case GraduationRosterSubmitted():
            return replace(
                state, status=RosterStatus.SUBMITTED, submission=event, review=None, submissions=state.submissions + 1
            )
        case GraduationRosterReturned():
            return replace(state, status=RosterStatus.RETURNED, review=event)
        case GraduationRosterApproved():
            return replace(state, status=RosterStatus.APPROVED, review=event)
        case GraduationOutcomeRecorded():
            return replace(state, graduated=event.graduated, certificates=event.certificates)


def replay(events: Iterable[RosterEvent]) -> RosterReview:
    return reduce(apply, events, RosterReview())


def _day(at: datetime) -> str:
    return at.isoformat()[:10]


def decide_submission(
    state: RosterReview,
    roster: GraduationRoster,
    operator: OperatorClaims,
    reason: str,
    evidence: tuple[EvidenceRef, ...],
    at: datetime,
) -> GraduationRosterSubmitted:
    """The school submits the roster as composed now; refused while one awaits the bureau or after approval."""
    if state.status is RosterStatus.SUBMITTED and state.submission is not None:
        raise Refused("R46", f"the roster submitted on {_day(state.submission.at)} awaits the county bureau")
    if state.status is RosterStatus.APPROVED and state.review is not None:
        raise Refused("R46", f"the roster was approved on {_day(state.review.at)}")
    return GraduationRosterSubmitted(
        roster=roster,
        sha256=roster.digest(),
        operator=operator,
        by=Actor.of(operator),
        at=at,
        reason=reason,
        evidence=evidence,
    )


def nothing_to_review(state: RosterReview) -> Refused:
    when = f" on {_day(state.review.at)}" if state.review is not None else ""
    return Refused("R46", f"no roster awaits review: it is {state.status.value}{when}")


def decide_review(
    state: RosterReview, reviewer: OperatorClaims, approve: bool, reason: str, at: datetime, submission: int
) -> GraduationRosterApproved | GraduationRosterReturned:
    """The county bureau's decision on the `submission`-th submission, which must still await it."""
    if state.status is not RosterStatus.SUBMITTED or state.submission is None or state.submissions != submission:
        raise nothing_to_review(state)
    kind = GraduationRosterApproved if approve else GraduationRosterReturned
    return kind(by=Actor.of(reviewer), operator=reviewer, at=at, reason=reason, sha256=state.submission.sha256)

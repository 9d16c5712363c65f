"""R54: a school's annual rosters of one school year as a typed aggregate (`roster:{school}:{year}`).

Opened when the year's first record of the school is created or arrives (the deadline is armed then; `rosters_opened_by`
names which); submitted
once by the school, which meets the deadline; a second submission is refused naming R54.

Stored events keep their shape. Their type names were `roster_opened` and `roster_submitted` until issue 17;
`from_documents` reads those as the PascalCase events they are now, so a stream stored before still replays.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import reduce
from typing import Annotated, Literal

from pydantic import Field, TypeAdapter

from xueji_contracts.auth import OperatorClaims
from xueji_registry.domain.annual_roster import AnnualRoster
from xueji_registry.domain.compliance import Deadline
from xueji_registry.domain.errors import Refused
from xueji_registry.domain.event_base import Actor, StreamEvent, StreamEvents
from xueji_registry.domain.evidence import EvidenceRef
from xueji_registry.domain.periods import school_year_of
from xueji_registry.domain.state import StudentStatus

OLD_NAMES = {"roster_opened": "AnnualRosterOpened", "roster_submitted": "AnnualRosterSubmitted"}


def rosters_opened_by(record: StudentStatus, created: bool, on: date) -> list[tuple[str, int]]:
    """The rosters (school, school year) a record created at or joining its school on `on` (China date) opens: the
    school's rosters of the school year `on` falls in, and for a record created as a freshman of the coming year's
    class (admitted before 1 August to the class starting then: R07 numbers it, and the roster lists it, in that
    year) that year's too, or a school enrolling its whole class in July would have no roster, and no R54 deadline,
    for it until its first record after 1 August. A class year in the past opens nothing more: its deadline went by."""
    now = school_year_of(on)
    opened = [(record.school_code, now)]
    if created and record.class_year is not None and record.class_year > now:
        opened.append((record.school_code, record.class_year))
    return opened


class AnnualRosterOpened(StreamEvent):
    type: Literal["AnnualRosterOpened"] = "AnnualRosterOpened"
    school_code: str
    school_year: int
    due_on: date  # as the province policy's roster_months made it when opened


class AnnualRosterSubmitted(StreamEvent):
    type: Literal["AnnualRosterSubmitted"] = "AnnualRosterSubmitted"
    school_code: str
    school_year: int
    counts: dict[str, int]  # the rosters' counts as composed at submission
    by: Actor
    reason: str
    evidence: tuple[EvidenceRef, ...] = ()
    on_time: bool


RosterEvent = Annotated[AnnualRosterOpened | AnnualRosterSubmitted, Field(discriminator="type")]
_EVENTS = StreamEvents[RosterEvent](TypeAdapter(RosterEvent), OLD_NAMES)
from_documents = _EVENTS.from_documents


@dataclass(frozen=True)
class AnnualRosterState:
    """The rosters' state: opened (and when due), and the submission once made."""

    opened: AnnualRosterOpened | None = None
    submission: AnnualRosterSubmitted | None = None


def apply(state: AnnualRosterState, event: RosterEvent) -> AnnualRosterState:
    match event:
        case AnnualRosterOpened():
            return replace(state, opened=event)
        case AnnualRosterSubmitted():
            return replace(state, submission=event)


def replay(events: Iterable[RosterEvent]) -> AnnualRosterState:
    return reduce(apply, events, AnnualRosterState())


def decide_opening(state: AnnualRosterState, deadline: Deadline, school_year: int, at: datetime) -> list[RosterEvent]:
    """Open the rosters once: a stream with anything in it is open already."""
    if state != AnnualRosterState():
        return []
    return [AnnualRosterOpened(school_code=deadline.school_code, school_year=school_year, due_on=deadline.due_on,
                               at=at)]  # fmt: skip


def decide_submission(
    state: AnnualRosterState,
    roster: AnnualRoster,
    operator: OperatorClaims,
    reason: str,
    evidence: tuple[EvidenceRef, ...],
    deadline: Deadline,
    at: datetime,
) -> AnnualRosterSubmitted:
    """The school submits the rosters as composed now: their counts are kept; a second submission is refused."""
    if state.submission is not None:
        submitted_on = state.submission.at.isoformat()[:10]
        raise Refused("R54", f"the {roster.school_year} rosters were submitted on {submitted_on}")
    return AnnualRosterSubmitted(
        school_code=roster.school_code,
        school_year=roster.school_year,
        counts=roster.counts,
        at=at,
        by=Actor.of(operator),
        reason=reason,
        evidence=evidence,
        on_time=at <= deadline.due_at,
    )

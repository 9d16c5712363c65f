"""R03: the spring G-number batch's own stream (`gbatch:{school_year}-{jurisdiction}`) as a typed aggregate.

Who was asked of the national tier, chunk by chunk, and each answer's outcome: the G number issued, or the student
held with the reason. The batch's report is read from it at any time.

Stored events keep their shape. Their type names were `asked`, `issued` and `held` until issue 17; `from_documents`
reads those as the PascalCase events they are now, so a batch stored before still reports.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from xueji_contracts.messages.status import StatusState
from xueji_registry.domain.event_base import Moment, StreamEvents
from xueji_registry.domain.numbers import NumberKind, kind_of
from xueji_registry.domain.state import StudentStatus

OLD_NAMES = {"asked": "FormalNumbersAsked", "issued": "FormalNumberIssued", "held": "FormalNumberHeld"}
ELIGIBLE = {StatusState.ENROLLED, StatusState.SUSPENDED, StatusState.ABROAD, StatusState.DROPPED_OUT}


def eligible(state: StudentStatus) -> bool:
    """An L student with an ID number, in a status a G number may be issued in (R03)."""
    return (
        kind_of(state.status_number) is NumberKind.TEMPORARY
        and state.identity.id_number is not None
        and state.state in ELIGIBLE
        and state.closure is None
    )


class _Event(BaseModel):
    # Reading what was stored: a field a later version adds is no reason to refuse an old batch.
    model_config = ConfigDict(frozen=True, extra="ignore")


class FormalNumbersAsked(_Event):
    """A chunk of the batch's students asked of the national tier."""

    type: Literal["FormalNumbersAsked"] = "FormalNumbersAsked"
    students: tuple[str, ...]
    by: str  # the operator who started the batch
    at: Moment


class FormalNumberIssued(_Event):
    type: Literal["FormalNumberIssued"] = "FormalNumberIssued"
    student_id: str
    reason: str = "issued"


class FormalNumberHeld(_Event):
    type: Literal["FormalNumberHeld"] = "FormalNumberHeld"
    student_id: str
    reason: str  # the rule and reason the record refused the G number with


BatchEvent = Annotated[FormalNumbersAsked | FormalNumberIssued | FormalNumberHeld, Field(discriminator="type")]
_EVENTS = StreamEvents[BatchEvent](TypeAdapter(BatchEvent), OLD_NAMES)
from_documents = _EVENTS.from_documents


@dataclass
class FormalNumberBatch:
    """Who was asked (in the order first asked, each once) and each answer's latest outcome."""

    asked: dict[str, None] = field(default_factory=dict)
    outcomes: dict[str, FormalNumberIssued | FormalNumberHeld] = field(default_factory=dict)

    def report(self, batch_id: str) -> dict[str, Any]:
        issued = [s for s in self.asked if isinstance(self.outcomes.get(s), FormalNumberIssued)]
        held = [(s, o) for s in self.asked if isinstance(o := self.outcomes.get(s), FormalNumberHeld)]
        return {
            "batch_id": batch_id,
            "asked": len(self.asked),
            "issued": issued,
            "held": [{"student_id": s, "reason": o.reason} for s, o in held],
            "waiting": [s for s in self.asked if s not in self.outcomes],
        }


def apply(batch: FormalNumberBatch, event: BatchEvent) -> FormalNumberBatch:
    """Fold one event into the batch (in place: a batch is replayed once per read, never shared)."""
    if isinstance(event, FormalNumbersAsked):
        batch.asked.update(dict.fromkeys(event.students))
    else:
        batch.outcomes[event.student_id] = event
    return batch


def replay(events: Iterable[BatchEvent]) -> FormalNumberBatch:
    batch = FormalNumberBatch()
    for event in events:
        apply(batch, event)
    return batch

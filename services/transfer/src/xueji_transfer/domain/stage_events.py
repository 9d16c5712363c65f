"""Events of one approval stage (R21 steps 3-6, R22, R31): opened, decided, warned, escalated, re-dated."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from xueji_contracts.auth import OperatorClaims
from xueji_contracts.messages.transfer import Level, Stage, StageDeadline
from xueji_transfer.domain.evidence import EvidenceKind


class CaseEvent(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    at: AwareDatetime


class StageOpened(CaseEvent):
    """A stage is addressed to its party with a deadline; `round` counts reopenings after a return."""

    type: Literal["stage_opened"] = "stage_opened"
    stage: Stage
    step: int
    round: int = Field(ge=1)
    jurisdiction: str
    deadline: StageDeadline


class StageApproved(CaseEvent):
    type: Literal["stage_approved"] = "stage_approved"
    stage: Stage
    decided_by: OperatorClaims


class StageReturned(CaseEvent):
    """Returned for more materials: `back_to` reopens the previous party's stage (None: the guardian)."""

    type: Literal["stage_returned"] = "stage_returned"
    stage: Stage
    decided_by: OperatorClaims
    reason: str
    requested: tuple[EvidenceKind, ...] = ()
    back_to: Stage | None


class StageWarned(CaseEvent):
    type: Literal["stage_warned"] = "stage_warned"
    stage: Stage
    round: int
    jurisdiction: str
    due_at: AwareDatetime
    working_days_left: int


class StageEscalated(CaseEvent):
    """A deadline passed with the stage open: it stays open and the next level up chases it (R22)."""

    type: Literal["stage_escalated"] = "stage_escalated"
    stage: Stage
    round: int
    jurisdiction: str
    missed_due_at: AwareDatetime
    escalation_count: int = Field(ge=1)
    escalated_to_level: Level
    escalated_to: str
    next_deadline: StageDeadline | None = Field(description="when the level above this one takes over")


class StageDeadlineChanged(CaseEvent):
    """A newly loaded calendar moved an open stage's deadline (`which`: the SLA or the escalation one)."""

    type: Literal["stage_deadline_changed"] = "stage_deadline_changed"
    stage: Stage
    round: int
    jurisdiction: str
    which: Literal["sla", "escalation"]
    previous: StageDeadline
    deadline: StageDeadline

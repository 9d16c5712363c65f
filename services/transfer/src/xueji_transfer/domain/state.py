"""The TransferCase aggregate's state: built only by `apply`, read by `decide` and the timer view."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from xueji_contracts.messages.transfer import Level, Stage, StageDeadline
from xueji_transfer.domain.application_form import TransferApplication
from xueji_transfer.domain.case_events import RejectionReason
from xueji_transfer.domain.evidence import Evidence
from xueji_transfer.domain.exceptions import TimingException
from xueji_transfer.domain.jurisdiction import county_code
from xueji_transfer.domain.offline_events import OfflineCause

# R21 steps 3-6, in order; each is one verifying party of R22.
STAGES = (Stage.RECEIVING_SCHOOL, Stage.RECEIVING_BUREAU, Stage.SENDING_SCHOOL, Stage.SENDING_BUREAU)
STEP = {stage: step for step, stage in enumerate(STAGES, start=3)}
LEVEL = {
    Stage.RECEIVING_SCHOOL: Level.SCHOOL,
    Stage.RECEIVING_BUREAU: Level.COUNTY,
    Stage.SENDING_SCHOOL: Level.SCHOOL,
    Stage.SENDING_BUREAU: Level.COUNTY,
}


class CasePhase(StrEnum):
    ACTIVE = "active"
    AWAITING_MATERIALS = "awaiting_materials"  # the receiving school returned it to the guardian
    COMPLETED = "completed"
    REJECTED = "rejected"
    ROLLED_BACK = "rolled_back"


class StageStatus(StrEnum):
    OPEN = "open"
    APPROVED = "approved"
    RETURNED = "returned"
    REJECTED = "rejected"


class OfflinePhase(StrEnum):
    NONE = "none"
    OPEN = "open"  # the path may be taken
    CONSENTED = "consented"  # the receiving bureau signed the paper Registration Form
    ACCEPTED = "accepted"  # the student counts as enrolled at the receiving school
    RECONCILED = "reconciled"  # the system path completed; its record prevails


class StageState(BaseModel):
    model_config = ConfigDict(frozen=True)

    stage: Stage
    jurisdiction: str
    status: StageStatus
    round: int
    deadline: StageDeadline
    warned: bool = False
    escalation_count: int = 0
    escalated_to: str | None = None
    escalation_deadline: StageDeadline | None = None


class OfflineState(BaseModel):
    model_config = ConfigDict(frozen=True)

    phase: OfflinePhase = OfflinePhase.NONE
    cause: OfflineCause | None = None
    timer: StageDeadline | None = None
    consent: Evidence | None = None
    consent_cause: str | None = Field(default=None, description="the cause the consent states, and its text (R23)")
    accepted_at: datetime | None = None
    record: dict[str, str] = Field(default_factory=dict)


class TransferCase(BaseModel):
    model_config = ConfigDict(frozen=True)

    transfer_id: str
    case_number: str | None = None
    application: TransferApplication
    phase: CasePhase = CasePhase.ACTIVE
    step: int = Field(default=1, description="the last R21 step done on the current pass")
    stages: dict[Stage, StageState] = Field(default_factory=dict)
    materials: tuple[Evidence, ...] = ()
    exceptions: tuple[TimingException, ...] = ()
    initiated_at: datetime | None = None
    offline: OfflineState = OfflineState()
    rejection: RejectionReason | None = None
    completed_at: datetime | None = None
    paper_file_due_at: datetime | None = None
    paper_file_sent_at: datetime | None = None
    paper_file_overdue: bool = False
    version: int = Field(default=0, description="events applied")

    @property
    def open_stage(self) -> StageState | None:
        if self.phase is not CasePhase.ACTIVE:
            return None
        return next((s for s in self.stages.values() if s.status is StageStatus.OPEN), None)

    def approved(self, stage: Stage) -> bool:
        current = self.stages.get(stage)
        return current is not None and current.status is StageStatus.APPROVED

    def jurisdiction_of(self, stage: Stage) -> str:
        return stage_jurisdiction(self.application, stage)


def stage_jurisdiction(application: TransferApplication, stage: Stage) -> str:
    """The party that verifies `stage`: a school code, or the county division code of its bureau."""
    sending, receiving = application.sending.code, application.receiving.code
    return {
        Stage.RECEIVING_SCHOOL: receiving,
        Stage.RECEIVING_BUREAU: county_code(receiving),
        Stage.SENDING_SCHOOL: sending,
        Stage.SENDING_BUREAU: county_code(sending),
    }[stage]


def previous_stage(stage: Stage) -> Stage | None:
    index = STAGES.index(stage)
    return STAGES[index - 1] if index else None


def next_stage(stage: Stage) -> Stage | None:
    index = STAGES.index(stage) + 1
    return STAGES[index] if index < len(STAGES) else None

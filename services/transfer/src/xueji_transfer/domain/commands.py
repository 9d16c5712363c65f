"""What operators, other systems and the timer scheduler ask of a transfer case."""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from xueji_contracts.auth import OperatorClaims
from xueji_contracts.messages.transfer import Decision, Stage
from xueji_transfer.domain.application_form import TransferApplication
from xueji_transfer.domain.case_events import PaperFileMethod, RejectionReason
from xueji_transfer.domain.evidence import Evidence, EvidenceKind
from xueji_transfer.domain.exceptions import TimingException
from xueji_transfer.domain.offline_events import ConsentCause
from xueji_transfer.domain.record import StudentRecord


class _Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _ByOperator(_Command):
    operator: OperatorClaims


class ApplyForTransfer(_ByOperator):
    """Step 1, recorded by the receiving school on the guardian's application."""

    type: Literal["apply_for_transfer"] = "apply_for_transfer"
    transfer_id: str = Field(min_length=1)
    application: TransferApplication
    exceptions: tuple[TimingException, ...] = Field(default=(), description="R27 exceptions the application names")
    case_number: str | None = Field(default=None, description="the readable number allocated for this case")


class AddMaterials(_ByOperator):
    """More evidence; after a return to the guardian this reopens the receiving school's stage."""

    type: Literal["add_materials"] = "add_materials"
    materials: tuple[Evidence, ...] = Field(min_length=1)


class ExamineConditions(_ByOperator):
    """Step 2: the receiving school examined the conditions and its vacancies."""

    type: Literal["examine_conditions"] = "examine_conditions"
    conditions_met: bool
    vacancy: bool
    note: str | None = None


class DecideStage(_ByOperator):
    """Steps 3-6: approve, reject (ends the case) or return for more materials."""

    type: Literal["decide_stage"] = "decide_stage"
    stage: Stage
    decision: Decision
    reason_code: RejectionReason | None = None
    reason: str | None = None
    requested: tuple[EvidenceKind, ...] = Field(default=(), description="materials asked for on a return")
    record: StudentRecord | None = Field(
        default=None, description="the registry's record, attached by the service to an approval (R21, R28)"
    )
    sent_at: AwareDatetime | None = Field(
        default=None, description="when another system or province says it decided (its message's occurred_at)"
    )

    @model_validator(mode="after")
    def _reasons_given(self) -> Self:
        if self.decision is not Decision.APPROVE and not (self.reason and self.reason.strip()):
            raise ValueError(f"reason: required to {self.decision.value}")
        if self.decision is Decision.REJECT and self.reason_code is None:
            raise ValueError("reason_code: required to reject")
        return self


class FireTimer(_Command):
    """The scheduler says a timer from `armed_timers` fell due; stale or early timers change nothing."""

    type: Literal["fire_timer"] = "fire_timer"
    timer_id: str


class RecomputeDeadlines(_Command):
    """A new calendar (e.g. a year's notice) was loaded; the calendar argument is the new one (R31)."""

    type: Literal["recompute_deadlines"] = "recompute_deadlines"


class DeclareSystemFailure(_ByOperator):
    type: Literal["declare_system_failure"] = "declare_system_failure"
    description: str = Field(min_length=1)
    guardian_requested: bool


class RecordOfflineConsent(_ByOperator):
    """The receiving bureau's paper consent and the special reason it states (R23); the domain refuses one without."""

    type: Literal["record_offline_consent"] = "record_offline_consent"
    signed_form: Evidence
    cause: ConsentCause | None = None
    cause_text: str | None = Field(default=None, max_length=500, description="the reason, for cause `other`")


class AcceptOffline(_ByOperator):
    type: Literal["accept_offline"] = "accept_offline"
    record: dict[str, str] = Field(default_factory=dict, description="what the paper path recorded")


class NotifyStudentToReport(_ByOperator):
    type: Literal["notify_student_to_report"] = "notify_student_to_report"


class RecordStudentReported(_ByOperator):
    """Step 8: the student reported and the receiving school pulled the electronic file."""

    type: Literal["record_student_reported"] = "record_student_reported"
    electronic_file: Evidence
    system_record: dict[str, str] = Field(default_factory=dict, description="the system's record, for reconciliation")
    record: StudentRecord | None = Field(
        default=None,
        description="the registry's record, attached by the service: the student still the sending school's",
    )


class RecordPaperFileSent(_ByOperator):
    type: Literal["record_paper_file_sent"] = "record_paper_file_sent"
    method: PaperFileMethod


class RollBackTransfer(_ByOperator):
    type: Literal["roll_back_transfer"] = "roll_back_transfer"
    reason: str = Field(min_length=1)


Command = Annotated[
    ApplyForTransfer
    | AddMaterials
    | ExamineConditions
    | DecideStage
    | FireTimer
    | RecomputeDeadlines
    | DeclareSystemFailure
    | RecordOfflineConsent
    | AcceptOffline
    | NotifyStudentToReport
    | RecordStudentReported
    | RecordPaperFileSent
    | RollBackTransfer,
    Field(discriminator="type"),
]

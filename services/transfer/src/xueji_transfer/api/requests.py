"""HTTP request bodies: each command's own fields; the operator always comes from the verified token."""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from xueji_contracts.messages.transfer import Decision
from xueji_transfer.domain import (
    ConsentCause,
    Evidence,
    EvidenceKind,
    PaperFileMethod,
    RejectionReason,
    TransferApplication,
)

# What an operator writes out (a decision's reason, a failure's description): recorded permanently (R12) and shown on
# every inbox, so bounded like the registry's and the review queue's reasons; spaces alone say nothing.
Written = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
Required = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ApplyRequest(Body):
    """Step 1 (R21), recorded by the receiving school."""

    application: TransferApplication
    applied_at: AwareDatetime | None = Field(
        default=None,
        description="when the school received the guardian's application, if before now; its stage runs from then",
    )
    exception_ids: tuple[str, ...] = Field(
        default=(), max_length=3, description="R27 exceptions the receiving county bureau recorded for this student"
    )


class MaterialsRequest(Body):
    materials: tuple[Evidence, ...] = Field(min_length=1, description="evidence references (R30)")


class ExaminationRequest(Body):
    """Step 2: the receiving school's examination of the conditions and its vacancies."""

    conditions_met: bool
    vacancy: bool
    note: Written | None = None


class DecisionRequest(Body):
    """Steps 3-6: approve, reject (with a reason code and reason) or return for more materials."""

    decision: Decision
    reason_code: RejectionReason | None = None
    reason: Written | None = Field(default=None, description="required to reject or return; at most 500 characters")
    requested: tuple[EvidenceKind, ...] = ()


class SystemFailureRequest(Body):
    description: Required
    guardian_requested: bool


class OfflineConsentRequest(Body):
    signed_form: Evidence = Field(description="the paper Registration Form the receiving bureau signed (R23)")
    cause: ConsentCause | None = Field(
        default=None, description="required: system_failure, transmission_failure or other (with cause_text) (R23)"
    )
    cause_text: str | None = Field(default=None, max_length=500, description="the reason written out, for `other`")


class OfflineAcceptanceRequest(Body):
    record: dict[str, str] = Field(default_factory=dict, description="what the paper path recorded")


class ReportRequest(Body):
    """Step 8: the student reported; the electronic file pulled; the system's record for reconciliation."""

    electronic_file: Evidence
    system_record: dict[str, str] = Field(default_factory=dict)


class PaperFileRequest(Body):
    method: PaperFileMethod


class RollbackRequest(Body):
    reason: Required

"""Events of the case as a whole: application, examination, steps 7-8, rejection, paper file, rollback."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime

from xueji_contracts.auth import OperatorClaims
from xueji_contracts.messages.transfer import Stage
from xueji_transfer.domain.application_form import TransferApplication
from xueji_transfer.domain.evidence import Evidence
from xueji_transfer.domain.exceptions import TimingException
from xueji_transfer.domain.stage_events import CaseEvent


class RejectionReason(StrEnum):
    CONDITIONS_NOT_MET = "conditions_not_met"
    NO_VACANCY = "no_vacancy"  # the guardian is referred to the county bureau (002 III.6.3)
    MATERIALS_INVALID = "materials_invalid"
    STATUS_INELIGIBLE = "status_ineligible"
    OTHER = "other"
    # Never valid grounds:
    NO_STATUS_YET = "no_status_yet"  # R20: status is not a condition of admission
    # The receiving side's own grounds (its examination, steps 2-3); never the sending province's (R34):
    RECEIVING_ADMISSION_RULES = "receiving_admission_rules"
    SCORE_BELOW_RECEIVING_REQUIREMENT = "score_below_receiving_requirement"
    RECEIVING_ADMISSION_IRREGULAR = "receiving_admission_irregular"

    @classmethod
    def _missing_(cls, value: object) -> RejectionReason | None:
        # Until issue 20 this ground was spelled for the wrong province; stored events and other systems' messages
        # that carry the old spelling mean the receiving province's possibly irregular admission (003 Q12).
        return cls.RECEIVING_ADMISSION_IRREGULAR if value == "sending_admission_irregular" else None


class PaperFileMethod(StrEnum):
    MAILED = "mailed"
    DELIVERED = "delivered"
    VIA_GUARDIAN = "via_guardian"  # sealed and carried by the guardian at the student's request (002 III.7)


class TransferApplied(CaseEvent):
    """Step 1: the guardian applied to the receiving school, which recorded it."""

    type: Literal["transfer_applied"] = "transfer_applied"
    transfer_id: str
    application: TransferApplication
    recorded_by: OperatorClaims
    exceptions: tuple[TimingException, ...] = ()  # R27 exceptions by the receiving county bureau it relies on
    case_number: str | None = None  # readable number; None on cases applied before numbers travelled with events


class MaterialsAdded(CaseEvent):
    type: Literal["materials_added"] = "materials_added"
    materials: tuple[Evidence, ...]
    added_by: OperatorClaims


class ConditionsExamined(CaseEvent):
    """Step 2: conditions and vacancies examined and found sufficient."""

    type: Literal["conditions_examined"] = "conditions_examined"
    examined_by: OperatorClaims


class TransferRejected(CaseEvent):
    """The case ends with the reason; `offline_accepted` tells the registry to undo an offline enrollment."""

    type: Literal["transfer_rejected"] = "transfer_rejected"
    stage: Stage
    reason_code: RejectionReason
    reason: str
    decided_by: OperatorClaims
    referred_to: str | None = None
    offline_accepted: bool = False


class StudentNotifiedToReport(CaseEvent):
    """Step 7: with the other three parties' consent the receiving school tells the student to report."""

    type: Literal["student_notified_to_report"] = "student_notified_to_report"
    notified_by: OperatorClaims


class TransferCompleted(CaseEvent):
    """Step 8: the student reported, the electronic file was pulled, the sending school is notified.
    The registry consumes this to move the student (unless an offline acceptance already did)."""

    type: Literal["transfer_completed"] = "transfer_completed"
    reported_by: OperatorClaims
    student_id: str
    sending_school: str
    receiving_school: str
    grade: int
    electronic_file: Evidence
    sending_school_notified: bool = True
    offline_accepted: bool = False
    paper_file_due_at: AwareDatetime


class PaperFileSent(CaseEvent):
    type: Literal["paper_file_sent"] = "paper_file_sent"
    sent_by: OperatorClaims
    method: PaperFileMethod


class PaperFileDeadlineChanged(CaseEvent):
    """A newly loaded calendar moved the paper file's deadline (its last day was or became a rest day)."""

    type: Literal["paper_file_deadline_changed"] = "paper_file_deadline_changed"
    previous_due_at: AwareDatetime
    due_at: AwareDatetime


class PaperFileOverdue(CaseEvent):
    type: Literal["paper_file_overdue"] = "paper_file_overdue"
    due_at: AwareDatetime
    sending_school: str
    flagged_to: str


class TransferRolledBack(CaseEvent):
    """R33: a graduate's mistaken transfer undone; who operated is who is responsible."""

    type: Literal["transfer_rolled_back"] = "transfer_rolled_back"
    operated_by: OperatorClaims
    reason: str
    student_id: str
    back_to_school: str
    from_school: str

"""Events of the offline-acceptance path and its reconciliation (R23)."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict

from xueji_contracts.auth import OperatorClaims
from xueji_contracts.messages.transfer import StageDeadline
from xueji_transfer.domain.evidence import Evidence
from xueji_transfer.domain.stage_events import CaseEvent


class OfflineCause(StrEnum):
    TIMEOUT = "timeout"  # the sending side's verifications did not arrive in time after step 4
    SYSTEM_FAILURE = "system_failure"  # declared system or transmission failure, at the guardian's request


class ConsentCause(StrEnum):
    """Why the receiving bureau consents on paper (R23, 002 III.6): the special reason it signs for."""

    SYSTEM_FAILURE = "system_failure"  # the national status system did not work
    TRANSMISSION_FAILURE = "transmission_failure"  # the data did not get through
    OTHER = "other"  # another special reason, written out in `cause_text`


class OfflineTimerArmed(CaseEvent):
    """Step 4 verified: the sending side has until `deadline.due_at` before the offline path opens."""

    type: Literal["offline_timer_armed"] = "offline_timer_armed"
    deadline: StageDeadline


class OfflinePathOpened(CaseEvent):
    type: Literal["offline_path_opened"] = "offline_path_opened"
    cause: OfflineCause
    declared_by: OperatorClaims | None = None
    note: str | None = None


class OfflineConsentSigned(CaseEvent):
    """The receiving bureau signed consent on the paper Registration Form."""

    type: Literal["offline_consent_signed"] = "offline_consent_signed"
    signed_by: OperatorClaims
    form: Evidence
    cause: ConsentCause | None = None  # None only in consents recorded before the cause was asked for
    cause_text: str | None = None


class OfflineAccepted(CaseEvent):
    """The receiving school accepted the student: enrolled there at once, status continuous.
    The registry consumes this; `record` is what the paper path recorded, for reconciliation."""

    type: Literal["offline_accepted"] = "offline_accepted"
    accepted_by: OperatorClaims
    student_id: str
    receiving_school: str
    record: dict[str, str]
    continuous_status: bool = True


class RecordDifference(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    field: str
    offline: str | None
    system: str | None


class OfflineReconciled(CaseEvent):
    """The system path completed after an offline acceptance: differences listed, the system prevails."""

    type: Literal["offline_reconciled"] = "offline_reconciled"
    differences: tuple[RecordDifference, ...]
    prevailing: Literal["system"] = "system"
    record: dict[str, str]

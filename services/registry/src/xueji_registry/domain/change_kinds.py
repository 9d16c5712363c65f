"""The kinds of change a status record undergoes and the causes the measures list for them."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class ChangeKind(StrEnum):
    CONFIRM_CREATION = "confirm_creation"  # a possible duplicate cleared by the county (R14)
    SUSPEND = "suspend"
    EXTEND_SUSPENSION = "extend_suspension"
    RESUME = "resume"
    GO_ABROAD = "go_abroad"
    RETURN_FROM_ABROAD = "return_from_abroad"
    DROP_OUT = "drop_out"
    ABSENCE_DROPOUT = "absence_dropout"
    RESUME_AFTER_DROPOUT = "resume_after_dropout"
    DEATH = "death"
    GRADUATE = "graduate"
    COMPLETE = "complete"
    LEAVE = "leave"
    REISSUE_CERTIFICATE = "reissue_certificate"
    BASIC_INFO = "basic_info"
    KEY_INFO = "key_info"
    FORMAL_NUMBER = "formal_number"
    REAPPLY_FORMAL_NUMBER = "reapply_formal_number"  # R05: a G number changed by re-application (003 Q6)
    DELETE_RECORD = "delete_record"


class SuspensionCause(StrEnum):
    ILLNESS = "illness"
    OTHER = "other"


class DropoutCause(StrEnum):
    INCURABLE_ILLNESS = "incurable_illness"  # after two years of suspension (002 III.11)
    SEVERE_DISABILITY = "severe_disability"  # severe intellectual disability or unable to care for oneself
    EMIGRATION = "emigration"  # settling abroad
    JUDICIAL_OR_SPECIAL = "judicial_or_special"  # sentenced, correctional measures or other special reasons
    UNEXCUSED_ABSENCE = "unexcused_absence"  # R45: status kept in compulsory education, not in senior high


class Details(BaseModel):
    """Base of every change request's details: frozen, no unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")

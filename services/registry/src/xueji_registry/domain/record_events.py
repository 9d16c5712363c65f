"""Events of the record itself: creation, numbers, information changes, certificate reissue, closure."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Literal

from pydantic import Field

from xueji_contracts.messages.status import StatusState
from xueji_registry.domain.event_base import CheckOutcome, RegistryEventBase
from xueji_registry.domain.periods import Segment
from xueji_registry.domain.person import BasicInfo, BasicInfoPatch, StudentIdentity


class NumberChangeCause(StrEnum):
    FORMAL_ISSUED = "formal_issued"  # L -> G in the batch after the national checks (R03)
    J_TO_G = "j_to_g"  # a J student obtained an ID number (R04)
    REAPPLIED = "reapplied"  # R05: changed by re-application in a special case, approved (003 Q6)


class ClosureCause(StrEnum):
    DUPLICATE_REFUSED = "duplicate_refused"  # the county found the possible duplicate real (R01, R14)
    DELETED_WITH_MINISTRY_APPROVAL = "deleted_with_ministry_approval"  # R13


class StatusRecorded(RegistryEventBase):
    """The status record exists (R01-R03); a possible duplicate waits for the county in pending_review."""

    type: Literal["status_recorded"] = "status_recorded"
    school_code: str = Field(pattern=r"^\d{10}$")
    segment: Segment
    grade: int = Field(ge=1, le=12)
    graduation_grade: int = Field(ge=1, le=12)
    identity: StudentIdentity
    basic: BasicInfo
    admitted_on: date
    status_number: str
    state: StatusState
    status_file_due: date  # R02: the file is established within 1 month of admission
    # R07, R54: the school year of the freshman class the request registers the student in (its supplementary
    # number's yy, the new-student roster that lists it); None in events recorded before it was kept.
    school_year: int | None = None


class StatusFileCompleted(RegistryEventBase):
    """R02: the school established the student's status file (the evidence references it)."""

    type: Literal["status_file_completed"] = "status_file_completed"
    due: date


class AbsenceRecorded(RegistryEventBase):
    """R45: unexcused absence since `since`; the written dropout report falls due 2 weeks and a week later."""

    type: Literal["absence_recorded"] = "absence_recorded"
    since: date


class FileHandedOver(RegistryEventBase):
    """R45: the school's county bureau handed a migrant dropout's file to the household-register county."""

    type: Literal["file_handed_over"] = "file_handed_over"
    receiving_county: str


class AbsenceEnded(RegistryEventBase):
    """R45: the student returned; the absence no longer counts toward dropout."""

    type: Literal["absence_ended"] = "absence_ended"
    since: date
    returned_on: date


class StatusNumberChanged(RegistryEventBase):
    """A new status number; the previous one stays in the history (R04)."""

    type: Literal["status_number_changed"] = "status_number_changed"
    change_id: str | None = None
    previous: str
    number: str
    cause: NumberChangeCause
    duplicate_check: CheckOutcome
    identity_comparison: CheckOutcome


class SupplementaryNumberAssigned(RegistryEventBase):
    type: Literal["supplementary_number_assigned"] = "supplementary_number_assigned"
    segment: Segment
    school_year: int
    number: str


class KeyInfoChanged(RegistryEventBase):
    """R10: name and/or ID number changed after county review and the national checks; old values kept."""

    type: Literal["key_info_changed"] = "key_info_changed"
    change_id: str
    previous_name: str
    name: str
    previous_id_number: str | None
    id_number: str | None
    birth_date: date  # follows a new ID number


class BasicInfoChanged(RegistryEventBase):
    type: Literal["basic_info_changed"] = "basic_info_changed"
    change_id: str
    previous: BasicInfoPatch
    patch: BasicInfoPatch


class CertificateReissued(RegistryEventBase):
    type: Literal["certificate_reissued"] = "certificate_reissued"
    change_id: str
    certificate_number: str
    exception_id: str | None = None  # R08: a reissue after the first relies on the bureau's exception


class RecordClosed(RegistryEventBase):
    """The record takes no further changes; its history stays, including this event (R13)."""

    type: Literal["record_closed"] = "record_closed"
    change_id: str
    cause: ClosureCause
    status_number: str

"""What operators and other services ask of a status record; each says who asks, why and with what evidence."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from xueji_registry.domain.event_base import CheckOutcome, OperatorCommand
from xueji_registry.domain.evidence import EvidenceRef
from xueji_registry.domain.periods import Segment
from xueji_registry.domain.person import BasicInfo, StudentIdentity
from xueji_registry.domain.record_changes import ChangeDetails
from xueji_registry.domain.status_events import Arrival
from xueji_registry.domain.supplementary import SchoolNumbering

SCHOOL = r"^\d{10}$"
# R08: set by the registry, never by the caller (`numbers.certificates.execute_drawing`): the sequence it drew from the
# certificate's series for a graduation this command makes take effect.
DRAWN = "R08: the certificate sequence the registry drew for a graduation taking effect with this command"


class DuplicateOutcome(StrEnum):
    CLEAR = "clear"
    POSSIBLE = "possible"  # fuzzy match: the county decides (R14)
    DUPLICATE = "duplicate"  # exact match: refused (R01)


class DuplicateCheck(BaseModel):
    """The dedupe service's answer for this person, obtained before the record may exist (R01, R14)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    outcome: DuplicateOutcome
    existing_student_id: str | None = None

    @model_validator(mode="after")
    def _refers(self) -> Self:
        if self.outcome is not DuplicateOutcome.CLEAR and not self.existing_student_id:
            raise ValueError("a possible or exact duplicate names the existing record")
        return self


class EnrollStudent(OperatorCommand):
    """First registration by the school: the record and its L (or J, without an ID) number."""

    type: Literal["enroll_student"] = "enroll_student"
    student_id: str = Field(min_length=1, description="opaque, stable; chosen by the caller")
    school_code: str = Field(pattern=SCHOOL)
    segment: Segment
    grade: int = Field(ge=1, le=12)
    graduation_grade: int | None = Field(default=None, ge=1, le=12, description="default: 6, 9 or 12 by segment")
    identity: StudentIdentity
    basic: BasicInfo = BasicInfo()
    admitted_on: date
    school_year: int | None = Field(
        default=None, ge=2000, le=2099, description="the freshman class the request names (R07, R54)"
    )
    number_counter: int = Field(ge=1, description="this county's next L (or J) allocation, won by a unique insert")
    duplicate_check: DuplicateCheck


class RequestChange(OperatorCommand):
    """The school (the province for a deletion) asks for a change; some take effect at once (see TRANSITIONS)."""

    type: Literal["request_change"] = "request_change"
    details: ChangeDetails
    certificate_sequence: int | None = Field(default=None, ge=1, description=DRAWN)


class ReviewChange(OperatorCommand):
    """The verifier (county bureau; the Ministry for a deletion) approves or rejects a pending change."""

    type: Literal["review_change"] = "review_change"
    change_id: str = Field(min_length=1)
    approve: bool
    certificate_sequence: int | None = Field(default=None, ge=1, description=DRAWN)


class RecordNationalChecks(OperatorCommand):
    """The county records the national duplicate check and identity comparison of a key-info or J->G change."""

    type: Literal["record_national_checks"] = "record_national_checks"
    change_id: str = Field(min_length=1)
    duplicate_check: CheckOutcome
    identity_comparison: CheckOutcome


class ReferDuplicateCheck(OperatorCommand):
    """R14: the duplicate check of a change waiting for it found a suspected duplicate: the county reviews the case."""

    type: Literal["refer_duplicate_check"] = "refer_duplicate_check"
    change_id: str = Field(min_length=1)
    review_case_id: str = Field(min_length=1)
    tier: Literal["province", "national"] = "province"
    identity_comparison: CheckOutcome = CheckOutcome.NOT_RUN


class DecideDuplicateReview(OperatorCommand):
    """R14: the county's decision on the review case a change waits for: the same person refuses the change."""

    type: Literal["decide_duplicate_review"] = "decide_duplicate_review"
    change_id: str = Field(min_length=1)
    review_case_id: str = Field(min_length=1)
    same_person: bool


class IssueFormalNumber(OperatorCommand):
    """The spring batch: L -> G once the national duplicate check and the population-register comparison pass."""

    type: Literal["issue_formal_number"] = "issue_formal_number"
    duplicate_check: CheckOutcome
    identity_comparison: CheckOutcome = Field(description="comparison with the national population register")


class AssignSupplementaryNumber(OperatorCommand):
    """R07: the provincial supplementary number; the sequence is won by the caller's unique insert."""

    type: Literal["assign_supplementary_number"] = "assign_supplementary_number"
    school_year: int = Field(ge=2000, le=2099)
    numbering: SchoolNumbering
    sequence: int


class RegisterFreshman(OperatorCommand):
    """R07: a school registers a student the province already knows (a graduate of an earlier segment) as its
    freshman of a later segment; the school then gives that segment's supplementary number."""

    type: Literal["register_freshman"] = "register_freshman"
    school_code: str = Field(pattern=SCHOOL)
    segment: Segment
    grade: int = Field(ge=1, le=12)
    graduation_grade: int | None = Field(default=None, ge=1, le=12, description="default: 9 or 12 by segment")
    admitted_on: date
    school_year: int | None = Field(default=None, ge=2000, le=2099, description="the freshman class (R07, R54)")


class RecordTransferOut(OperatorCommand):
    """A completed transfer to a school in another province (sent by the transfer service)."""

    type: Literal["record_transfer_out"] = "record_transfer_out"
    transfer_id: str = Field(min_length=1)
    receiving_school: str = Field(pattern=SCHOOL)
    progression: bool = Field(default=False, description="a graduate's progression (毕业后升学), not a transfer")
    from_school: str | None = Field(
        default=None, pattern=SCHOOL, description="the school the case moves the student from: still the record's"
    )


class RecordTransferIn(OperatorCommand):
    """A completed transfer into `receiving_school`; `arrival` when the record starts in this province."""

    type: Literal["record_transfer_in"] = "record_transfer_in"
    transfer_id: str = Field(min_length=1)
    receiving_school: str = Field(pattern=SCHOOL)
    arrival: Arrival | None = None
    progression_grade: int | None = Field(
        default=None, ge=1, le=12, description="a graduate's progression: the grade entered in the next segment (R07)"
    )
    from_school: str | None = Field(
        default=None, pattern=SCHOOL, description="the school the case moves the student from: still the record's"
    )


class RecordRollback(OperatorCommand):
    """R33: the county status office rolled a graduate's mistaken progression back to the graduating school."""

    type: Literal["record_rollback"] = "record_rollback"
    transfer_id: str = Field(min_length=1, description="the progression's case")
    back_to_school: str = Field(pattern=SCHOOL)


class RecordAbsence(OperatorCommand):
    """R45: the school records that a student (any segment) is absent without excuse since a day."""

    type: Literal["record_absence"] = "record_absence"
    absent_since: date


class EndAbsence(OperatorCommand):
    """R45: the absent student came back before the absence was reported as dropout."""

    type: Literal["end_absence"] = "end_absence"
    returned_on: date


class RecordFileHandover(OperatorCommand):
    """R45: the school's county bureau handed a migrant dropout's file to the household-register county bureau
    (evidence: the hand-over record)."""

    type: Literal["record_file_handover"] = "record_file_handover"
    evidence: tuple[EvidenceRef, ...] = Field(min_length=1, description="the hand-over record")


class RecordException(OperatorCommand):
    """R08, R40: the named authority sets aside a "generally" default for this student, for a written reason and
    with evidence; the change that needs it then uses it once. A school never records one."""

    type: Literal["record_exception"] = "record_exception"
    rule: str = Field(pattern=r"^R\d{2}$", description="R40 (suspension) or R08 (certificate reissue)")
    clause: str = Field(
        min_length=1, max_length=60, description="graduation_semester, suspension_period, second_reissue"
    )
    certificate_number: str | None = Field(default=None, min_length=1, description="R08: the lost certificate")
    evidence: tuple[EvidenceRef, ...] = Field(min_length=1, description="what the exception rests on")


class CompleteStatusFile(OperatorCommand):
    """R02: the school records that the student's status file is established (evidence: the file's reference)."""

    type: Literal["complete_status_file"] = "complete_status_file"


Command = Annotated[
    EnrollStudent
    | RequestChange
    | ReviewChange
    | RecordNationalChecks
    | ReferDuplicateCheck
    | DecideDuplicateReview
    | IssueFormalNumber
    | AssignSupplementaryNumber
    | RecordTransferOut
    | RecordTransferIn
    | RecordRollback
    | CompleteStatusFile
    | RecordAbsence
    | EndAbsence
    | RecordFileHandover
    | RecordException
    | RegisterFreshman,
    Field(discriminator="type"),
]

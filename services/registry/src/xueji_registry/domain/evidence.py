"""Evidence references (R12): what a document is, where it lives and its content hash; never the document."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class EvidenceKind(StrEnum):
    SUSPENSION_APPLICATION = "suspension_application"  # 002 III.8, annex 5
    MEDICAL_CERTIFICATE = "medical_certificate"  # from a county-level or higher medical unit (III.8)
    RECOVERY_CERTIFICATE = "recovery_certificate"  # illness suspension ends only with it (III.8)
    SUPPORTING_DOCUMENT = "supporting_document"  # "relevant supporting materials" of any other cause
    WRITTEN_APPLICATION = "written_application"  # extension, resumption, return after dropout
    ABROAD_APPLICATION = "abroad_application"  # III.10, annex 6
    PASSPORT = "passport"
    TRAVEL_PASS = "travel_pass"  # Hong Kong, Macao and Taiwan passes
    VISA = "visa"
    DROPOUT_APPLICATION = "dropout_application"  # III.11, annex 7
    CONTACT_RECORD = "contact_record"  # the school's repeated attempts to reach an absent student (III.13)
    DEATH_CERTIFICATE = "death_certificate"  # III.12
    GRADUATION_ROSTER = "graduation_roster"  # III.14, annex 8
    COMPLETION_ROSTER = "completion_roster"  # III.16
    LOSS_STATEMENT = "loss_statement"  # a lost certificate (III.15)
    HOUSEHOLD_REGISTER = "household_register"  # scan or photo of the residence booklet (003 Q7, 002 II.7)
    RESIDENCE_PERMIT = "residence_permit"  # 002 II.7
    GUARDIAN_REQUEST = "guardian_request"  # the guardian's request for a basic-info change (II.7)
    PROVINCE_SUBMISSION = "province_submission"  # the province's file to the Ministry for a deletion (003 Q8)
    TRANSFER_RECORD = "transfer_record"  # the transfer case that moved the student
    STATUS_FILE = "status_file"  # the established student status file (002 II.1, II.3)
    OTHER = "other"


class EvidenceRef(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: EvidenceKind
    uri: str = Field(min_length=1, max_length=2000)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="lower-case hex SHA-256 of the content")


def missing_evidence(
    given: Iterable[EvidenceRef],
    all_of: Iterable[EvidenceKind] = (),
    one_of: Iterable[EvidenceKind] = (),
) -> str | None:
    """What is missing from `given`, in words, or None when every required kind is there."""
    kinds = {ref.kind for ref in given}
    lacking = [kind.value for kind in all_of if kind not in kinds]
    alternatives = list(one_of)
    if alternatives and not kinds.intersection(alternatives):
        lacking.append(" or ".join(kind.value for kind in alternatives))
    return f"evidence missing: {', '.join(lacking)}" if lacking else None

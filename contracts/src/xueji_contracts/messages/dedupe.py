"""Duplicate checks and the identity feed of the dedupe index (R01, R03, R06, R10, R14): private payloads.

These carry personal data (names, raw ID numbers) and travel only on private topics: inside the province
deployment (`dedupe.check.v1`, `dedupe.verdict.v1`, `registry.identity.v1`) and between a province and the
national tier (`dedupe.national.*`), never on a public topic (R52). A check is answered by the envelope's
correlation id. Review cases are in `dedupe_review` (no raw ID numbers) and re-exported here.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from xueji_contracts.identity import InvalidResidentId, validate_resident_id
from xueji_contracts.messages.dedupe_review import (
    ReviewCaseDeadline,
    ReviewCaseDecided,
    ReviewCaseOpened,
    ReviewDeadlineState,
    ReviewDecision,
)

ReviewDecided = ReviewCaseDecided  # one model; on the wire its type is "ReviewCaseDecided"

__all__ = [
    "CheckPurpose",
    "CheckRequested",
    "FeatureEvidence",
    "IdentityChanged",
    "IdentityRecorded",
    "IdentityRefused",
    "IdentityRemoved",
    "MatchedStatus",
    "PersonIdentity",
    "RegisterOutcome",
    "ReviewCaseDeadline",
    "ReviewCaseDecided",
    "ReviewCaseOpened",
    "ReviewDeadlineState",
    "ReviewDecided",
    "ReviewDecision",
    "VerdictGiven",
    "VerdictKind",
]

STATUS_NUMBER = r"^[GJL]\d{17}[\dX]$"


class _Message(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class PersonIdentity(_Message):
    """Who a record says the student is: what the duplicate check compares (R14)."""

    student_id: str = Field(min_length=1, description="opaque, stable student id of the record")
    name: str = Field(min_length=1, max_length=50, description="as typed; dedupe normalises it for comparison")
    id_number: str | None = Field(default=None, description="18-character resident ID number, if obtainable")
    birth_date: date
    gender: Literal["male", "female"]
    region_code: str | None = Field(
        default=None,
        pattern=r"^\d{6}$",
        description="household-register (birthplace) county code; default: the ID number's region, else the school's",
    )
    school_code: str = Field(pattern=r"^\d{10}$", description="the school of the record (county code + 4 digits)")
    status_number: str | None = Field(default=None, pattern=STATUS_NUMBER, description="L, G or J number (R03)")
    guardians: tuple[str, ...] = Field(
        default=(),
        max_length=6,
        description="guardians' names as typed (监护人姓名), where known: evidence for or against a match (R14)",
    )
    household_register: str | None = Field(
        default=None,
        pattern=r"^\d{6}$",
        description="household-register division (户籍所在地, 6-digit county code), where known (R14); "
        "preferred over region_code for the comparison",
    )

    @field_validator("guardians")
    @classmethod
    def _guardian_names(cls, names: tuple[str, ...]) -> tuple[str, ...]:
        """Blank names dropped; each name at most 50 characters."""
        kept = tuple(name.strip() for name in names if name.strip())
        if any(len(name) > 50 for name in kept):
            raise ValueError("a guardian's name has at most 50 characters")
        return kept

    @field_validator("id_number")
    @classmethod
    def _valid_id_number(cls, value: str | None) -> str | None:
        """R06: an invalid ID number is refused naming the field (a DLQ reason on Kafka, a 422 over HTTP)."""
        if not value:
            return None
        try:
            return validate_resident_id(value)
        except InvalidResidentId as exc:
            raise ValueError(f"invalid resident ID number: {exc.reason}") from None


class CheckPurpose(StrEnum):
    CREATION = "creation"  # R01, R14: before a status record may exist
    KEY_INFO_CHANGE = "key_info_change"  # R10: a new name or ID number for an existing record
    G_NUMBER_ISSUANCE = "g_number_issuance"  # R03: national check and population-register comparison


class CheckRequested(PersonIdentity):
    """Ask whether this person already has a status (on `dedupe.check.v1`, key = correlation id).

    `student_id` is the record being created (held pending) or changed: it never matches itself.
    """

    purpose: CheckPurpose = CheckPurpose.CREATION
    cleared_review_case_id: str | None = Field(
        default=None,
        description="R14: asked again after the county decided this review case 'different person' (a change that "
        "still needs the national tier): the province forwards a possible duplicate instead of reopening review",
    )
    refused_before: tuple[str, ...] = Field(
        default=(),
        description="R01: the student ids of the requests this creation follows, each refused by the registry (a "
        "class sheet's row corrected and uploaded again): whatever dedupe still holds or reserves for them is ended "
        "before the check, as their IdentityRefused would, which travels on another topic and may come later",
    )


class VerdictKind(StrEnum):
    DUPLICATE = "duplicate"  # refuse the creation or change (R01)
    POSSIBLE_DUPLICATE = "possible_duplicate"  # hold pending: the county bureau reviews (review_case_id)
    UNIQUE = "unique"


class RegisterOutcome(StrEnum):
    """The population register's comparison of ID number, name, birth date and gender (R03, R10)."""

    MATCH = "match"
    MISMATCH = "mismatch"
    NOT_FOUND = "not_found"


class FeatureEvidence(_Message):
    """One comparison: its outcome (`level`), a similarity in 0..1, and the evidence in bits it added."""

    name: str
    level: str
    similarity: float = Field(ge=0.0, le=1.0)
    weight: float


class MatchedStatus(_Message):
    """An existing record the request matched."""

    student_id: str
    status_number: str | None = Field(default=None, description="its L/G/J number, if it has one")
    score: float = Field(ge=0.0, le=1.0)
    rule: str = Field(description="id_number, status_number or fuzzy")


class VerdictGiven(_Message):
    """The answer to a check (on `dedupe.verdict.v1`, same correlation id as the request)."""

    verdict: VerdictKind
    purpose: CheckPurpose = CheckPurpose.CREATION
    student_id: str = Field(description="the record the request was about")
    score: float = Field(ge=0.0, le=1.0, description="probability that the best match is the same person")
    existing_student_id: str | None = Field(default=None, description="the best match, if any")
    matches: tuple[MatchedStatus, ...] = Field(default=(), description="best first")
    features: tuple[FeatureEvidence, ...] = Field(default=(), description="the evidence of the best match")
    reason_zh: str
    reason_en: str
    review_case_id: str | None = Field(default=None, description="set when possible_duplicate: the county's case")
    population_register: RegisterOutcome | None = Field(default=None, description="national tier only")
    tier: Literal["province", "national"] = "province"


class IdentityRecorded(PersonIdentity):
    """A status record exists (created or released from review): index it (`registry.identity.v1`).

    `record_version` is the registry stream version it reflects; a consumer ignores anything older than
    what it holds, so redelivery and replay change nothing.
    """

    record_version: int = Field(ge=1)


class IdentityChanged(IdentityRecorded):
    """Key information or the status number changed (R10, R03 G issuance): the record replaces the old one."""


class IdentityRemoved(_Message):
    """A status record was deleted with the Ministry's approval (R13): forget it."""

    student_id: str = Field(min_length=1)
    record_version: int = Field(ge=1)
    reason: str = Field(min_length=1)


class IdentityRefused(PersonIdentity):
    """A creation dedupe answered "unique" or "possible duplicate" was refused by the registry for another rule (R02:
    an admission date in the future, a grade past graduation): the record was never created, so dedupe releases the
    child it held and reserved for it, and a corrected request right after is checked afresh (R01, R14).

    The person is as the check asked about them (what the reservation was taken on); `student_id` the request's.
    """

    rule: str = Field(pattern=r"^R\d{2}$", description="the RULES.md id the creation broke")
    reason: str = Field(min_length=1, description="why, as told to the school")

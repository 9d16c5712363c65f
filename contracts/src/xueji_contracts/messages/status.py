"""Payloads of the public status feed (R52): `student.status.v1`, one message per change, and
`student.status.snapshot.v1`, each student's latest public status (compacted), for other provincial systems.

Contract version 1.1 (additive within schema_version 1): a change names its kind, the state and school before it,
the day it took effect (Asia/Shanghai) beside the time it was recorded, and the student's gapless sequence number.
Messages written before 1.1 carry none of these fields; every new field is optional.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, JsonValue, field_validator

CONTRACT_VERSION = "1.1"


class StatusState(StrEnum):
    PENDING_REVIEW = "pending_review"
    ENROLLED = "enrolled"
    SUSPENDED = "suspended"
    ABROAD = "abroad"
    DROPPED_OUT = "dropped_out"
    EXPELLED = "expelled"
    LEFT = "left"
    GRADUATED = "graduated"
    COMPLETED = "completed"
    DECEASED = "deceased"
    TRANSFERRED = "transferred"


class StatusChangeKind(StrEnum):
    """What happened to the student's status record."""

    ENROLLED = "enrolled"  # the record exists and the student is enrolled (also: a possible duplicate cleared)
    RECORDED_FOR_REVIEW = "recorded_for_review"  # recorded, but a possible duplicate waits for the county (R14)
    REFUSED_AS_DUPLICATE = "refused_as_duplicate"  # the county found the possible duplicate real: record closed
    TRANSFERRED_IN = "transferred_in"  # now at another school of the province (before: the school left)
    TRANSFERRED_OUT = "transferred_out"  # to a school in another province; the record here ends
    SUSPENDED = "suspended"  # with its planned end
    SUSPENSION_EXTENDED = "suspension_extended"  # a new planned end
    RESUMED = "resumed"  # after a suspension or (before: dropped_out) a dropout
    ABROAD = "abroad"
    RETURNED_FROM_ABROAD = "returned_from_abroad"
    DROPPED_OUT = "dropped_out"
    GRADUATED = "graduated"
    COMPLETED = "completed"
    LEFT = "left"  # a leaving certificate (senior high)
    DECEASED = "deceased"
    DELETED = "deleted"  # deleted with the Ministry's approval (R13): see `approval`
    KEY_INFORMATION_CORRECTED = "key_information_corrected"  # name and/or ID number (values never published)
    NUMBER_CHANGED = "number_changed"  # a new status number (L->G, J->G); before/after masked
    ARRIVAL_RECONCILED = "arrival_reconciled"  # an offline acceptance's paper record met the electronic file


class StatusBefore(BaseModel):
    """Where the record stood just before the change."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    state: StatusState
    school_code: str = Field(pattern=r"^\d{10}$")
    county_code: str = Field(pattern=r"^\d{6}$")
    grade: int = Field(ge=1, le=12)
    status_number_masked: str


class DeletionApproval(BaseModel):
    """R13: the approval a deletion carries out (the operator's identity stays inside the registry)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    reference: str = Field(min_length=1, description="the approved change request's id")
    approved_by: str = Field(description="the approving level, e.g. ministry")
    approved_on: date


def _example(change: StatusChangeKind, sequence: int, state: StatusState, **more: Any) -> dict[str, Any]:
    """One documented message per change kind; every number is masked and no example is a real ID."""
    at = {"school_code": "3506020001", "county_code": "350602", "grade": 3}
    example = {"student_id": "stu_6f1c2a9e4b7d4e0f9a3b5c7d1e2f3a4b", **at, "state": state.value,
               "status_number_masked": "G350602********002X", "school_year": 2024, "change": change.value,
               "sequence": sequence, "effective_on": "2026-09-01", "recorded_at": "2026-09-01T01:30:00Z",
               "before": {"state": "enrolled", **at, "status_number_masked": "G350602********002X"}}  # fmt: skip
    return example | more


# What school_year says (docs/subscribers.md). It was the admission date's school year; the two differ only for an
# admission before 1 August to the class of the school year that starts that August, which now gives that year.
SCHOOL_YEAR = (
    "the school year (by the calendar year it starts in) of the freshman class the student entered the current "
    "segment with, as the enrollment or freshman registration named it (the R07 number's yy, the R54 new-student "
    "roster); where none was named, the school year of the admission date (a pupil of the 2026 class admitted on "
    "20 July 2026 is 2026; messages published before the registry kept the class year said 2025)"
)
S, K = StatusState, StatusChangeKind
_PENDING = {"state": "pending_review", "school_code": "3506020001", "county_code": "350602", "grade": 3,
            "status_number_masked": "L350602********002X"}  # fmt: skip
_EXAMPLES: list[JsonValue] = [
    _example(K.ENROLLED, 1, S.ENROLLED, before=None, status_number_masked="L350602********002X"),
    _example(K.RECORDED_FOR_REVIEW, 1, S.PENDING_REVIEW, before=None, status_number_masked="L350602********002X"),
    _example(K.REFUSED_AS_DUPLICATE, 2, S.PENDING_REVIEW, before=_PENDING, status_number_masked="L350602********002X"),
    _example(K.TRANSFERRED_IN, 2, S.ENROLLED, school_code="3506030002", county_code="350603"),
    _example(K.TRANSFERRED_OUT, 3, S.TRANSFERRED),
    _example(K.SUSPENDED, 4, S.SUSPENDED, planned_end="2027-08-31"),
    _example(
        K.SUSPENSION_EXTENDED,
        5,
        S.SUSPENDED,
        planned_end="2028-08-31",
        before={**_PENDING, "state": "suspended", "status_number_masked": "G350602********002X"},
    ),
    _example(K.RESUMED, 6, S.ENROLLED, before={**_PENDING, "state": "suspended"}),
    _example(K.ABROAD, 7, S.ABROAD),
    _example(K.RETURNED_FROM_ABROAD, 8, S.ENROLLED, before={**_PENDING, "state": "abroad"}),
    _example(K.DROPPED_OUT, 9, S.DROPPED_OUT),
    _example(K.GRADUATED, 10, S.GRADUATED, grade=9),
    _example(K.COMPLETED, 11, S.COMPLETED, grade=9),
    _example(K.LEFT, 12, S.LEFT, grade=11),
    _example(K.DECEASED, 13, S.DECEASED),
    _example(
        K.DELETED,
        14,
        S.ENROLLED,
        approval={"reference": "chg-3", "approved_by": "ministry", "approved_on": "2026-09-01"},
    ),
    _example(K.KEY_INFORMATION_CORRECTED, 15, S.ENROLLED, corrected=["name", "identity_document"]),
    _example(K.NUMBER_CHANGED, 16, S.ENROLLED, before={**_PENDING, "state": "enrolled"}),
    _example(K.ARRIVAL_RECONCILED, 17, S.ENROLLED),
]
_SNAPSHOT_EXAMPLES: list[JsonValue] = [
    {"student_id": "stu_6f1c2a9e4b7d4e0f9a3b5c7d1e2f3a4b", "school_code": "3506020001", "county_code": "350602",
     "state": "suspended", "status_number_masked": "G350602********002X", "grade": 3, "school_year": 2024,
     "sequence": 4, "last_change": "suspended", "effective_on": "2026-09-01", "recorded_at": "2026-09-01T01:30:00Z",
     "closed": False}
]  # fmt: skip


class StudentStatusRecorded(BaseModel):
    """One change of a student's status: the status after it, what changed and from where, keyed and so ordered by
    student_id. Carries an opaque id, a masked number and codes, never a raw ID number or a name (R52).

    `sequence` counts the student's changes on this topic from 1 without gaps: a subscriber that last saw n and now
    sees more than n + 1 missed a change (and repairs from the snapshot topic or the HTTP status route); a
    redelivered message repeats a sequence it has seen (at-least-once delivery) and changes nothing. Each province's
    registry counts its own: a student who moves to another province starts again at 1 there (`transferred_in`, no
    `before`) under the same `student_id`, so a reader of several provinces' feeds keeps its place per envelope
    `province` and `student_id`."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        json_schema_extra={"x-producer": "registry", "x-contract-version": CONTRACT_VERSION, "examples": _EXAMPLES},
    )

    student_id: str = Field(min_length=1, description="opaque, stable student id")
    school_code: str = Field(pattern=r"^\d{10}$")
    county_code: str = Field(pattern=r"^\d{6}$")
    state: StatusState
    status_number_masked: str = Field(description="status number with birth date and sequence hidden")
    grade: int = Field(ge=1, le=12)
    school_year: int = Field(ge=2000, le=2100, description=SCHOOL_YEAR)
    # 1.1
    change: StatusChangeKind | None = Field(default=None, description="what happened (1.1)")
    sequence: int | None = Field(default=None, ge=1, description="the change number per province, gapless (1.1)")
    effective_on: date | None = Field(default=None, description="the day the change took effect, Asia/Shanghai (1.1)")
    recorded_at: AwareDatetime | None = Field(default=None, description="when the registry recorded it, UTC (1.1)")
    before: StatusBefore | None = Field(default=None, description="state and school before; none at creation (1.1)")
    planned_end: date | None = Field(default=None, description="suspension: the last day it is planned for (1.1)")
    approval: DeletionApproval | None = Field(default=None, description="deleted: the approval (1.1)")
    corrected: tuple[Literal["name", "identity_document"], ...] = Field(
        default=(), description="key_information_corrected: which items (their values are never published) (1.1)"
    )

    @field_validator("recorded_at")
    @classmethod
    def _recorded_in_utc(cls, value: datetime | None) -> datetime | None:
        return value.astimezone(UTC) if value is not None else None


class StudentStatusSnapshot(BaseModel):
    """A student's latest public status on the compacted `student.status.snapshot.v1` (keyed by student_id): what
    a new subscriber reads from the beginning before it follows `student.status.v1` after `sequence`."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        json_schema_extra={
            "x-producer": "registry",
            "x-contract-version": CONTRACT_VERSION,
            "examples": _SNAPSHOT_EXAMPLES,
        },
    )

    student_id: str = Field(min_length=1)
    school_code: str = Field(pattern=r"^\d{10}$")
    county_code: str = Field(pattern=r"^\d{6}$")
    state: StatusState
    status_number_masked: str
    grade: int = Field(ge=1, le=12)
    school_year: int = Field(ge=2000, le=2100, description=SCHOOL_YEAR)
    sequence: int = Field(ge=1, description="the last change on student.status.v1 this status includes")
    last_change: StatusChangeKind
    effective_on: date
    recorded_at: AwareDatetime
    closed: bool = Field(default=False, description="the record takes no more changes (deleted, refused)")

    @field_validator("recorded_at")
    @classmethod
    def _recorded_in_utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)

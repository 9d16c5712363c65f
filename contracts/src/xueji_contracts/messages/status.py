"""Payloads on `student.status.v1`: the public status events other provincial systems consume (R52)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


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


class StudentStatusRecorded(BaseModel):
    """A status record was created: carries an opaque id and a masked number, never a raw ID number."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    student_id: str = Field(min_length=1, description="opaque, stable student id")
    school_code: str = Field(pattern=r"^\d{10}$")
    county_code: str = Field(pattern=r"^\d{6}$")
    state: StatusState
    status_number_masked: str = Field(description="status number with birth date and sequence hidden")
    grade: int = Field(ge=1, le=12)
    school_year: int = Field(ge=2000, le=2100)

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
    """A student's status after a change: one message per status change, keyed and so ordered by student_id.
    Carries an opaque id, a masked number and codes, never a raw ID number or a name (R52)."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        json_schema_extra={
            "x-producer": "registry",
            "examples": [
                {
                    "student_id": "stu_6f1c2a9e4b7d4e0f9a3b5c7d1e2f3a4b",
                    "school_code": "3506020001",
                    "county_code": "350602",
                    "state": "enrolled",
                    "status_number_masked": "G350602********002X",
                    "grade": 1,
                    "school_year": 2026,
                },
                {
                    "student_id": "stu_6f1c2a9e4b7d4e0f9a3b5c7d1e2f3a4b",
                    "school_code": "3506020001",
                    "county_code": "350602",
                    "state": "suspended",
                    "status_number_masked": "G350602********002X",
                    "grade": 3,
                    "school_year": 2028,
                },
            ],
        },
    )

    student_id: str = Field(min_length=1, description="opaque, stable student id")
    school_code: str = Field(pattern=r"^\d{10}$")
    county_code: str = Field(pattern=r"^\d{6}$")
    state: StatusState
    status_number_masked: str = Field(description="status number with birth date and sequence hidden")
    grade: int = Field(ge=1, le=12)
    school_year: int = Field(ge=2000, le=2100)

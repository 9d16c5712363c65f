"""Enrollment of a student at a school: the request model and the first status event it records."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

from xueji_contracts.identity import InvalidResidentId, mask_id_number, validate_resident_id
from xueji_contracts.messages.status import StatusState, StudentStatusRecorded


class Gender(StrEnum):
    MALE = "male"
    FEMALE = "female"


class EnrollmentRequest(BaseModel):
    """What a school submits; an invalid ID number is refused naming `id_number` (R06)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    school_code: str = Field(pattern=r"^\d{10}$", description="10-digit school code (county code + 4 digits)")
    name: str = Field(min_length=1, max_length=50)
    id_number: str | None = Field(default=None, description="18-character resident ID number, if obtainable")
    gender: Gender
    birth_date: date
    grade: int = Field(ge=1, le=12)
    school_year: int = Field(ge=2000, le=2100)

    @field_validator("id_number")
    @classmethod
    def _valid_id(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        try:
            return validate_resident_id(value)
        except InvalidResidentId as exc:
            raise ValueError(f"invalid resident ID number: {exc.reason}") from None


def recorded_event(student_id: str, request: EnrollmentRequest, status_number: str) -> StudentStatusRecorded:
    """The public event: an opaque id and a masked number, never the raw ID number (R52)."""
    return StudentStatusRecorded(
        student_id=student_id,
        school_code=request.school_code,
        county_code=request.school_code[:6],
        state=StatusState.ENROLLED,
        status_number_masked=mask_id_number(status_number),
        grade=request.grade,
        school_year=request.school_year,
    )

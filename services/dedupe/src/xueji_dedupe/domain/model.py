"""The facts the duplicate check compares: an indexed status record and a check request (R14)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

from xueji_dedupe.domain.identity import resident_id, status_number


class Gender(StrEnum):
    MALE = "male"
    FEMALE = "female"


class PersonFacts(BaseModel):
    """Who a status record says the student is. An invalid ID number is refused naming the field (R06)."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=50, description="as typed; normalised only for comparison")
    id_number: str | None = Field(default=None, description="18-character resident ID number, if obtainable")
    birth_date: date
    gender: Gender
    region_code: str = Field(
        pattern=r"^\d{6}$", description="household-register county (户籍所在地) where known, else the birthplace's"
    )
    school_code: str | None = Field(default=None, pattern=r"^\d{10}$")
    status_number: str | None = Field(default=None, description="L, G or J number (R03), if assigned")
    guardians: tuple[str, ...] = Field(default=(), description="guardians' names as typed, where known (R14)")

    @field_validator("id_number")
    @classmethod
    def _valid_id_number(cls, value: str | None) -> str | None:
        return resident_id(value) if value else None

    @field_validator("status_number")
    @classmethod
    def _valid_status_number(cls, value: str | None) -> str | None:
        return status_number(value) if value else None


class CandidateRecord(PersonFacts):
    """A status record held in the dedupe index, kept current from the status topic."""

    student_id: str = Field(min_length=1, description="opaque, stable student id")


class CheckRequest(PersonFacts):
    """A duplicate check on a creation (no student id yet) or a key-information change (R10, R14).

    On a change the student's own id is given so that the record is not reported as its own duplicate.
    """

    student_id: str | None = Field(default=None, min_length=1)

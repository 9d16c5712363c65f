"""`interprovince.file.v1`: a student's electronic status file crossing to another province (R21 step 7, R34).

When an inter-provincial transfer completes, the sending province's registry records the student as
transferred out and sends the file; the receiving province's registry starts the record at the receiving
school with the same national status number. PERSONAL DATA: it travels only through the national hub to
the receiving province (the hub's mirror routes it by the `xueji-province-<code>` header of the envelope,
which names the receiving province).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

SCHOOL = r"^\d{10}$"


class FileGender(StrEnum):
    MALE = "male"
    FEMALE = "female"


class FileSegment(StrEnum):
    PRIMARY = "primary"
    JUNIOR = "junior"
    SENIOR = "senior"


class StatusFileTransferred(BaseModel):
    """The sending province's record of a student who left it, for the receiving province's registry."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    transfer_id: str = Field(min_length=1)
    student_id: str = Field(min_length=1, description="opaque id, kept by the receiving province")
    sending_school: str = Field(pattern=SCHOOL)
    receiving_school: str = Field(pattern=SCHOOL)
    status_number: str = Field(min_length=1, description="the national status number travels with the student")
    previous_numbers: tuple[str, ...] = ()
    name: str = Field(min_length=1, max_length=50)
    id_number: str | None = Field(default=None, description="None for a student with no obtainable ID number")
    gender: FileGender
    birth_date: date
    ethnicity: str | None = Field(default=None, max_length=20)
    segment: FileSegment
    grade: int = Field(ge=1, le=12)
    graduation_grade: int = Field(ge=1, le=12)
    admitted_on: date
    progression_grade: int | None = Field(
        default=None, ge=1, le=12, description="a graduate's progression: the grade at the receiving school (R07)"
    )


class PaperRecord(BaseModel):
    """A student from another province as the paper Registration Form gives them (R23, R34): at an offline
    acceptance the receiving province's registry starts the record from it, status continuous; the electronic
    file reconciles it when the system path completes, and the file prevails. PERSONAL DATA, like the file."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    status_number: str = Field(pattern=r"^[GLJ][0-9]{17}[0-9X]$", description="the national status number")
    name: str = Field(min_length=1, max_length=50)
    id_number: str | None = Field(default=None, description="None for a student with no obtainable ID number")
    gender: FileGender
    birth_date: date
    segment: FileSegment
    grade: int = Field(ge=1, le=12)
    graduation_grade: int | None = Field(default=None, ge=1, le=12, description="default: 6, 9 or 12 by segment")
    admitted_on: date

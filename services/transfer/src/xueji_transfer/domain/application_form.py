"""What a guardian applies for (R21 step 1): the student, both schools, the reason and the materials."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from xueji_contracts.auth import province_of
from xueji_contracts.messages.status import StatusState
from xueji_transfer.domain.evidence import Evidence

SCHOOL = r"^\d{10}$"


class TransferKind(StrEnum):
    TRANSFER = "transfer"  # 转学: moving school while studying
    PROGRESSION = "progression"  # 毕业后升学: a graduate going on to the next segment in another province (R26)


class SchoolKind(StrEnum):
    GENERAL = "general"
    VOCATIONAL = "vocational"  # secondary vocational school
    SPECIAL = "special"  # special education


class ClassType(StrEnum):
    REGULAR = "regular"
    INTERNATIONAL = "international"


class GuardiansMoved(StrEnum):
    """Who moved or was transferred, for the compulsory reasons that need both parents (R29, 002 III.1(2)-(3))."""

    BOTH_PARENTS = "both_parents"
    OTHER_GUARDIAN = "other_guardian"  # the child's guardian is not a parent
    ONE_PARENT = "one_parent"


class SchoolSide(BaseModel):
    """One end of the transfer. `rank` is a senior high's level, for same-level transfers (R29)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field(pattern=SCHOOL)
    kind: SchoolKind = SchoolKind.GENERAL
    class_type: ClassType = ClassType.REGULAR
    rank: str | None = None


class SchoolTerm(BaseModel):
    """The semester the transfer falls in, as the school calendar has it (R27)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: date
    end: date
    semester: Literal[1, 2]


class VocationalToGeneral(BaseModel):
    """What a vocational -> general senior-high transfer must show (002 III.3)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    applied_city: str = Field(pattern=r"^\d{4}00$", description="city where the student applied for senior high")
    score: float
    admission_score: float = Field(description="the receiving school's admission score in the transfer year")
    school_confirmed: bool
    bureau_confirmed: bool


class TransferApplication(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    student_id: str | None = Field(description="opaque status id; None when the student has no status (R20)")
    status: StatusState | None = None
    kind: TransferKind = TransferKind.TRANSFER
    sending: SchoolSide
    receiving: SchoolSide
    grade: int = Field(ge=1, le=12)
    target_grade: int = Field(ge=1, le=12, description="grade at the receiving school")
    term: SchoolTerm | None = None
    reason: str = Field(min_length=1)
    materials: tuple[Evidence, ...] = ()
    graduated_on: date | None = Field(default=None, description="for a graduate's progression (R26, R33)")
    vocational_to_general: VocationalToGeneral | None = None
    guardians_moved: GuardiansMoved | None = Field(default=None, description="R29: who moved, for reasons 2-3")
    household_register_changed: bool = Field(
        default=False, description="R30: the register moved with the reason (else the reason's proof is required)"
    )
    earlier_status_changes: bool = Field(
        default=False, description="R30: repeated a grade, suspended, ... before (their proof is required)"
    )

    @model_validator(mode="after")
    def _schools_differ(self) -> Self:
        if self.sending.code == self.receiving.code:
            raise ValueError("receiving: the receiving school must differ from the sending school")
        return self

    @property
    def interprovincial(self) -> bool:
        return province_of(self.sending.code) != province_of(self.receiving.code)

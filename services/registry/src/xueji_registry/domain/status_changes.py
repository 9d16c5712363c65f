"""Details of the status transitions a school asks for (R40-R46): one model per kind, tagged by `kind`."""

from __future__ import annotations

from datetime import date
from typing import Literal, Self

from pydantic import Field, field_validator, model_validator

from xueji_registry.domain.change_kinds import ChangeKind, Details, DropoutCause, SuspensionCause
from xueji_registry.domain.periods import SchoolTerm
from xueji_registry.domain.supplementary import SchoolNumbering


class Suspend(Details):
    kind: Literal[ChangeKind.SUSPEND] = ChangeKind.SUSPEND
    cause: SuspensionCause
    term: SchoolTerm
    months: int | None = Field(
        default=None, ge=1, le=24, description="R40: default one academic year; another period only by exception"
    )


class ExtendSuspension(Details):
    kind: Literal[ChangeKind.EXTEND_SUSPENSION] = ChangeKind.EXTEND_SUSPENSION
    months: int | None = Field(default=None, ge=1, description="R40: at most one year (absolute); default one year")


class Resume(Details):
    kind: Literal[ChangeKind.RESUME] = ChangeKind.RESUME
    grade: int = Field(ge=1, le=12, description="the grade at suspension or the original class's grade (R41)")
    term: SchoolTerm


class GoAbroad(Details):
    kind: Literal[ChangeKind.GO_ABROAD] = ChangeKind.GO_ABROAD


class ReturnFromAbroad(Details):
    kind: Literal[ChangeKind.RETURN_FROM_ABROAD] = ChangeKind.RETURN_FROM_ABROAD


class DropOut(Details):
    kind: Literal[ChangeKind.DROP_OUT] = ChangeKind.DROP_OUT
    cause: DropoutCause

    @field_validator("cause")
    @classmethod
    def _listed(cls, cause: DropoutCause) -> DropoutCause:
        if cause is DropoutCause.UNEXCUSED_ABSENCE:
            raise ValueError("unexcused absence is recorded as absence_dropout (R45), not applied for")
        return cause


class AbsenceDropout(Details):
    kind: Literal[ChangeKind.ABSENCE_DROPOUT] = ChangeKind.ABSENCE_DROPOUT
    absent_since: date
    contact_attempts: int = Field(ge=0)
    migrant_household_county: str | None = Field(
        default=None, pattern=r"^\d{6}$", description="a migrant child's household-register county (gets the file)"
    )


class ResumeAfterDropout(Details):
    kind: Literal[ChangeKind.RESUME_AFTER_DROPOUT] = ChangeKind.RESUME_AFTER_DROPOUT


class Death(Details):
    kind: Literal[ChangeKind.DEATH] = ChangeKind.DEATH
    date_of_death: date


class Graduate(Details):
    kind: Literal[ChangeKind.GRADUATE] = ChangeKind.GRADUATE
    graduation_year: int = Field(ge=2000, le=2099)
    numbering: SchoolNumbering | None = Field(
        default=None,
        description="R08: the graduating school's place in the layout (county, township, school digits), which the "
        "registry reads from the record's school when left out; one composing another school's digits is refused",
    )
    certificate_sequence: int | None = Field(
        default=None,
        ge=1,
        description="R08: the sequence the registry drew from the certificate's series as the graduation took effect "
        "(the API refuses a caller's; a request stored before the registry drew them may carry one, never used)",
    )


class Complete(Details):
    kind: Literal[ChangeKind.COMPLETE] = ChangeKind.COMPLETE


class Leave(Details):
    kind: Literal[ChangeKind.LEAVE] = ChangeKind.LEAVE
    study_from: date
    study_to: date

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.study_to < self.study_from:
            raise ValueError("study_to is before study_from")
        return self

"""Details of the other changes (R04, R08, R10, R11, R13, R14) and the tagged union of every change."""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import Field, field_validator, model_validator

from xueji_registry.domain import status_changes as sc
from xueji_registry.domain.change_kinds import ChangeKind, Details
from xueji_registry.domain.person import BasicInfoPatch, IdNumber, checked_id_number, written_name


class ConfirmCreation(Details):
    kind: Literal[ChangeKind.CONFIRM_CREATION] = ChangeKind.CONFIRM_CREATION
    possible_duplicate_of: str | None = None


class ReissueCertificate(Details):
    kind: Literal[ChangeKind.REISSUE_CERTIFICATE] = ChangeKind.REISSUE_CERTIFICATE
    certificate_number: str = Field(min_length=1)


class ChangeBasicInfo(Details):
    kind: Literal[ChangeKind.BASIC_INFO] = ChangeKind.BASIC_INFO
    patch: BasicInfoPatch


class ChangeKeyInfo(Details):
    kind: Literal[ChangeKind.KEY_INFO] = ChangeKind.KEY_INFO
    name: str | None = Field(default=None, min_length=1, max_length=50)
    id_number: IdNumber | None = None

    @field_validator("name")
    @classmethod
    def _written(cls, value: str | None) -> str | None:
        # The new name in the form an enrollment keeps (R14: the same person written two ways is one person); the
        # applied change stores its own (KeyInfoChanged.name), so an older request read back changes no record.
        if value is None:
            return None
        if not (name := written_name(value)):
            raise ValueError("a name is not spaces only")
        return name

    @model_validator(mode="after")
    def _something(self) -> Self:
        if self.name is None and self.id_number is None:
            raise ValueError("a key-information change names a new name, a new ID number or both")
        return self


class ChangeToFormalNumber(Details):
    """R04: a J student who now has an ID number applies for a G number."""

    kind: Literal[ChangeKind.FORMAL_NUMBER] = ChangeKind.FORMAL_NUMBER
    id_number: IdNumber


class ReapplyFormalNumber(Details):
    """R05 (003 Q6): in a special case the G number is changed by re-application, through the application process
    (school, county, national checks). `number`: the new G number; default "G" + the current ID number."""

    kind: Literal[ChangeKind.REAPPLY_FORMAL_NUMBER] = ChangeKind.REAPPLY_FORMAL_NUMBER
    number: str | None = Field(default=None, pattern=r"^G\d{17}[\dX]$", description="G + an 18-character ID number")
    special_case: str = Field(min_length=1, max_length=500, description="why the number must change (003 Q6)")

    @field_validator("number")
    @classmethod
    def _valid_id_part(cls, value: str | None) -> str | None:
        if value is None:
            return None
        checked = checked_id_number(value[1:])
        return f"G{checked}"


class DeleteRecord(Details):
    kind: Literal[ChangeKind.DELETE_RECORD] = ChangeKind.DELETE_RECORD


ChangeDetails = Annotated[
    ConfirmCreation
    | sc.Suspend
    | sc.ExtendSuspension
    | sc.Resume
    | sc.GoAbroad
    | sc.ReturnFromAbroad
    | sc.DropOut
    | sc.AbsenceDropout
    | sc.ResumeAfterDropout
    | sc.Death
    | sc.Graduate
    | sc.Complete
    | sc.Leave
    | ReissueCertificate
    | ChangeBasicInfo
    | ChangeKeyInfo
    | ChangeToFormalNumber
    | ReapplyFormalNumber
    | DeleteRecord,
    Field(discriminator="kind"),
]

"""The materials a transfer application must carry before the receiving school initiates it (R24, R30).

A province lists them in its policy file; each is an evidence kind the transfer service knows, required always or
only in a circumstance the application declares. The national default is 003 Q11's: the basic-information sheet and
the guardian's own signed statement (an application, never a paper approval form, R24).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

# Evidence kinds a checklist may name (the transfer service's evidence references, R30).
MATERIAL_KINDS = frozenset(
    {"registration_form", "status_basic_info", "household_register", "reason_proof", "status_change_proof"}
)


class WhenRequired(StrEnum):
    ALWAYS = "always"
    REGISTER_UNCHANGED = "register_unchanged"  # the household register did not move with the reason (002 III.5.4)
    EARLIER_STATUS_CHANGE = "earlier_status_change"  # the student repeated a grade, was suspended, ... (III.5.5)


class RequiredMaterial(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: str = Field(description=f"one of {', '.join(sorted(MATERIAL_KINDS))}")
    when: WhenRequired = WhenRequired.ALWAYS
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
    clause: str | None = None

    @model_validator(mode="after")
    def _known_kind(self) -> Self:
        if self.kind not in MATERIAL_KINDS:
            raise ValueError(f"kind {self.kind!r} is no transfer material; one of {', '.join(sorted(MATERIAL_KINDS))}")
        return self


NATIONAL_MATERIALS = (
    RequiredMaterial(
        kind="status_basic_info", zh="学生学籍基本信息表", en="basic status information sheet", clause="003 Q11"
    ),
    RequiredMaterial(
        kind="registration_form",
        zh="监护人签署的转学原因说明",
        en="the guardian's signed statement of reason",
        clause="003 Q11",
    ),
)


class TransferMaterials(BaseModel):
    """R30: the checklist, recorded as evidence references before step 3 (which also needs the certificate image)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    required: tuple[RequiredMaterial, ...] = NATIONAL_MATERIALS

    @model_validator(mode="after")
    def _each_kind_once(self) -> Self:
        kinds = [m.kind for m in self.required]
        if len(kinds) != len(set(kinds)):
            raise ValueError("required: each material kind is listed once")
        return self

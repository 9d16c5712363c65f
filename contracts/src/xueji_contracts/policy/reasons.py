"""Transfer reasons a province accepts (R29), per stage of schooling, each with a stable code."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator


class SchoolingStage(StrEnum):
    COMPULSORY = "compulsory"  # primary and junior high
    SENIOR_HIGH = "senior_high"


class TransferReason(BaseModel):
    """One reason an application may name; the code is what messages and stores carry."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field(pattern=r"^[a-z][a-z0-9_]{2,59}$", description="stable, never reused for another meaning")
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
    clause: str | None = Field(default=None, description="where the reason is written, e.g. 002 III.1(1)")
    both_parents: bool = Field(
        default=False, description="R29: the move is both parents' (父母双方) or another guardian's, not one parent's"
    )
    receiving_kind: Literal["vocational"] | None = Field(
        default=None, description="R29: the reason allows only this kind of receiving school, e.g. 002 III.2(4)"
    )


class TransferReasons(BaseModel):
    """Reasons per stage. An empty list means the province sets none, so no reason is refused for it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    compulsory: tuple[TransferReason, ...] = ()
    senior_high: tuple[TransferReason, ...] = ()

    @model_validator(mode="after")
    def _codes_are_unique(self) -> Self:
        # Per stage: a message carries the stage with the code, and a reason such as household_move
        # exists in both stages with different scope (002 III.1(1) also covers moves within a county).
        for stage in SchoolingStage:
            codes = [reason.code for reason in self.for_stage(stage)]
            repeated = sorted({code for code in codes if codes.count(code) > 1})
            if repeated:
                raise ValueError(f"{stage.value} reason codes must be unique, repeated: {', '.join(repeated)}")
        return self

    def for_stage(self, stage: SchoolingStage) -> tuple[TransferReason, ...]:
        return self.compulsory if stage is SchoolingStage.COMPULSORY else self.senior_high

    def find(self, stage: SchoolingStage, code: str) -> TransferReason | None:
        """The reason with this code for this stage, or None (a senior-high code is no compulsory reason)."""
        return next((reason for reason in self.for_stage(stage) if reason.code == code), None)

    def accepts(self, stage: SchoolingStage, code: str) -> bool:
        """R29: the application names one of the stage's reasons (anything goes where none are set)."""
        return not self.for_stage(stage) or self.find(stage, code) is not None

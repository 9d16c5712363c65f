"""The policy values a transfer case obeys: national defaults here, every provincial value (reasons, R27 timing,
materials) read from the province's policy file (xueji_contracts.policy) by `from_policy`."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from xueji_contracts.messages.transfer import Level
from xueji_contracts.policy import ProvincePolicy, RequiredMaterial, TransferTiming, TransferWindows

_LEVELS = list(Level)


class Segment(StrEnum):
    PRIMARY = "primary"
    JUNIOR = "junior"
    SENIOR = "senior"


class TransferRules(BaseModel):
    """RULES.md R22-R33 as numbers and lists; one instance per province deployment."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    stage_sla_working_days: int = Field(default=10, ge=1, description="R22")
    warning_lead_working_days: int = Field(default=2, ge=0, description="R22")
    escalation_chain: tuple[Level, ...] = (Level.SCHOOL, Level.COUNTY, Level.CITY, Level.PROVINCE)
    # Not in the seeds: how long each level a breach escalated to has before the next level up.
    escalation_working_days: int = Field(default=10, ge=1)
    offline_timeout_working_days: int = Field(default=20, ge=1, description="R23")
    windows: TransferWindows = Field(default_factory=TransferWindows, description="R25 blackout, R26 progression")
    timing: TransferTiming | None = Field(default=None, description="R27; None: the province sets none")
    segment_grades: dict[Segment, tuple[int, int]] = Field(
        default_factory=lambda: {Segment.PRIMARY: (1, 6), Segment.JUNIOR: (7, 9), Segment.SENIOR: (10, 12)},
        description="first and graduation grade of each school segment (R27)",
    )
    compulsory_reasons: frozenset[str] = Field(default=frozenset(), description="R29; empty: any")
    senior_reasons: frozenset[str] = Field(default=frozenset(), description="R29; empty: any")
    both_parents_reasons: frozenset[str] = Field(
        default=frozenset(), description="R29: compulsory reasons that need both parents (or a guardian)"
    )
    vocational_only_reasons: frozenset[str] = Field(
        default=frozenset(), description="R29: senior-high reasons that allow only a vocational school"
    )
    required_materials: tuple[RequiredMaterial, ...] = Field(
        default=(), description="R30: the policy file's checklist; none set here, only the certificate image"
    )
    paper_file_months: int = Field(default=1, ge=1, description="R32")
    rollback_months: int = Field(default=6, ge=1, description="R33")

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.warning_lead_working_days >= self.stage_sla_working_days:
            raise ValueError("warning_lead_working_days must be less than stage_sla_working_days")
        ranks = [_LEVELS.index(level) for level in self.escalation_chain]
        if len(ranks) < 2 or ranks != sorted(set(ranks)):
            raise ValueError("escalation_chain: two or more levels, each above the one before")
        return self

    @classmethod
    def from_policy(cls, policy: ProvincePolicy, **overrides: Any) -> TransferRules:
        """The rules a province's policy file sets; what it does not cover keeps the defaults here."""
        values: dict[str, Any] = {
            "stage_sla_working_days": policy.sla.stage_working_days,
            "warning_lead_working_days": policy.sla.warning_lead_working_days,
            "escalation_chain": policy.sla.escalation_chain,
            "offline_timeout_working_days": policy.sla.offline_acceptance_working_days,
            "windows": policy.windows,
            "timing": policy.timing,
            "compulsory_reasons": frozenset(r.code for r in policy.reasons.compulsory),
            "senior_reasons": frozenset(r.code for r in policy.reasons.senior_high),
            "both_parents_reasons": frozenset(r.code for r in policy.reasons.compulsory if r.both_parents),
            "vocational_only_reasons": frozenset(
                r.code for r in policy.reasons.senior_high if r.receiving_kind == "vocational"
            ),
            "paper_file_months": policy.deadlines.paper_file_months,
            "required_materials": policy.transfer_materials.required,
        }
        return cls(**(values | overrides))

    def segment_of(self, grade: int) -> Segment:
        for segment, (first, last) in self.segment_grades.items():
            if first <= grade <= last:
                return segment
        raise ValueError(f"grade {grade} is in no school segment")

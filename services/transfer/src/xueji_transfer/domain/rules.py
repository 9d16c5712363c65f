"""The policy numbers a transfer case obeys, with the national/Fujian defaults (wired to the province policy later)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from xueji_contracts.messages.transfer import Level


class Segment(StrEnum):
    PRIMARY = "primary"
    JUNIOR = "junior"
    SENIOR = "senior"


class MonthDayRange(BaseModel):
    """Every year from `start` 00:00 to `end` 24:00 (month, day), China Standard Time; may wrap the new year."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: tuple[int, int]
    end: tuple[int, int]

    def contains(self, day: date) -> bool:
        md = (day.month, day.day)
        if self.start <= self.end:
            return self.start <= md <= self.end
        return md >= self.start or md <= self.end

    def __str__(self) -> str:
        return f"{self.start[0]:02d}-{self.start[1]:02d} to {self.end[0]:02d}-{self.end[1]:02d}"


# Fujian measures III.1 (5 compulsory-education reasons) and III.2 (4 senior-high reasons).
COMPULSORY_REASONS = frozenset(
    {"household_move", "guardian_relocation", "residence_move", "guardian_away_or_service", "physical_condition"}
)
SENIOR_REASONS = frozenset({"household_move", "guardian_away_or_service", "health_same_city", "vocational_talent"})


class TransferRules(BaseModel):
    """Numbers from RULES.md R22-R33 with their defaults; one instance per province deployment."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    stage_sla_working_days: int = Field(default=10, ge=1, description="R22")
    warning_lead_working_days: int = Field(default=2, ge=0, description="R22")
    # Not in the seeds: how long each level a breach escalated to has before the next level up.
    escalation_working_days: int = Field(default=10, ge=1)
    escalation_chain: tuple[Level, ...] = (Level.SCHOOL, Level.COUNTY, Level.CITY, Level.PROVINCE)
    offline_timeout_working_days: int = Field(default=20, ge=1, description="R23")
    blackout: tuple[MonthDayRange, ...] = (MonthDayRange(start=(7, 15), end=(8, 14)),)  # R25
    progression_windows: tuple[MonthDayRange, ...] = (  # R26 (the Chinese text: Dec 14)
        MonthDayRange(start=(8, 15), end=(12, 14)),
        MonthDayRange(start=(3, 1), end=(5, 31)),
    )
    semester_timing: bool = Field(default=True, description="R27 (Fujian): in session, not first/last semester")
    segment_grades: dict[Segment, tuple[int, int]] = Field(
        default_factory=lambda: {Segment.PRIMARY: (1, 6), Segment.JUNIOR: (7, 9), Segment.SENIOR: (10, 12)},
        description="first and graduation grade of each school segment",
    )
    compulsory_reasons: frozenset[str] = COMPULSORY_REASONS  # R29
    senior_reasons: frozenset[str] = SENIOR_REASONS  # R29
    paper_file_months: int = Field(default=1, ge=1, description="R32")
    rollback_months: int = Field(default=6, ge=1, description="R33")

    def segment_of(self, grade: int) -> Segment:
        for segment, (first, last) in self.segment_grades.items():
            if first <= grade <= last:
                return segment
        raise ValueError(f"grade {grade} is in no school segment")

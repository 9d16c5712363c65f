"""The province policy schema: every configurable rule with its national default (RULES "Configurable")."""

from __future__ import annotations

from datetime import datetime
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from xueji_contracts.calendar import CalendarDays
from xueji_contracts.envelope import PROVINCE_PATTERN
from xueji_contracts.messages.transfer import Level
from xueji_contracts.policy.numbers import SupplementaryNumberFormat
from xueji_contracts.policy.reasons import TransferReasons
from xueji_contracts.policy.windows import TransferTiming, TransferWindows

_LEVEL_ORDER = list(Level)


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class StageSla(_Section):
    """R22, R23: working-day timers of the transfer stages and who is chased when one is breached."""

    stage_working_days: int = Field(default=10, ge=1, le=60)
    warning_lead_working_days: int = Field(default=2, ge=0)
    offline_acceptance_working_days: int = Field(default=20, ge=1, le=120)
    escalation_chain: tuple[Level, ...] = (Level.SCHOOL, Level.COUNTY, Level.CITY, Level.PROVINCE)

    @model_validator(mode="after")
    def _warning_before_due(self) -> Self:
        if self.warning_lead_working_days >= self.stage_working_days:
            raise ValueError("warning_lead_working_days must be less than stage_working_days")
        return self

    @field_validator("escalation_chain")
    @classmethod
    def _chain_goes_up(cls, chain: tuple[Level, ...]) -> tuple[Level, ...]:
        ranks = [_LEVEL_ORDER.index(level) for level in chain]
        if len(chain) < 2 or ranks != sorted(set(ranks)):
            raise ValueError("needs two or more levels, each higher than the one before (school, county, ...)")
        return chain

    def next_level(self, level: Level) -> Level | None:
        """Who a breach at `level` escalates to, or None at the top of the chain."""
        if level not in self.escalation_chain:
            raise ValueError(f"{level.value} is not in the escalation chain")
        index = self.escalation_chain.index(level) + 1
        return self.escalation_chain[index] if index < len(self.escalation_chain) else None


class Deadlines(_Section):
    """Month periods, counted with WorkingDayCalendar.month_deadline."""

    status_file_months: int = Field(default=1, ge=1, description="R02: status file after admission")
    paper_file_months: int = Field(default=1, ge=1, description="R32: paper file after the transfer completes")
    roster_months: int = Field(default=1, ge=1, description="R54: annual rosters after the school year starts")


class Suspension(_Section):
    """R40: one academic year, extended at most once by one year."""

    period_years: int = Field(default=1, ge=1)
    max_extensions: int = Field(default=1, ge=0)
    extension_years: int = Field(default=1, ge=1)

    @property
    def max_total_years(self) -> int:
        return self.period_years + self.max_extensions * self.extension_years


class DuplicateCheck(_Section):
    """R01, R14: where the duplicate check's match probability refuses a record, or sends it to county review."""

    duplicate_threshold: float = Field(default=0.98, gt=0.0, le=1.0, description="refused as the same person (R01)")
    review_threshold: float = Field(default=0.5, gt=0.0, le=1.0, description="the county decides (R14)")

    @model_validator(mode="after")
    def _review_below_duplicate(self) -> DuplicateCheck:
        if self.review_threshold >= self.duplicate_threshold:
            raise ValueError("review_threshold must be below duplicate_threshold (a review band between them)")
        return self


class ProvincePolicy(_Section):
    """One province's rules. Sections a file leaves out, or fields inside them, take the national default.

    Fujian-only rules (timing R27, reasons R29, supplementary numbers R07) have no national
    equivalent: None or empty means the province sets no such rule.
    """

    code: str = Field(pattern=PROVINCE_PATTERN, description="2-digit division code, e.g. 35 (quote it in YAML)")
    name: str = Field(min_length=1)
    name_zh: str | None = None
    source: str | None = Field(default=None, description="the provincial measures this file transcribes")
    sla: StageSla = StageSla()
    windows: TransferWindows = TransferWindows()
    timing: TransferTiming | None = None
    reasons: TransferReasons = TransferReasons()
    supplementary_number: SupplementaryNumberFormat | None = None
    deadlines: Deadlines = Deadlines()
    suspension: Suspension = Suspension()
    duplicate_check: DuplicateCheck = DuplicateCheck()
    calendar_adjustments: CalendarDays = CalendarDays()
    calendar_notices: dict[int, CalendarDays] = Field(
        default_factory=dict, description="year -> a State Council notice not yet in the national data (R31)"
    )

    @field_validator("calendar_notices")
    @classmethod
    def _notice_days_in_their_year(cls, notices: dict[int, CalendarDays]) -> dict[int, CalendarDays]:
        for year, days in notices.items():
            days.all_in_year(year)
        return notices

    def in_blackout(self, at: datetime) -> bool:
        """R25: whether a new transfer may not be initiated at `at` (timezone-aware)."""
        return self.windows.in_blackout(at)

    def in_progression_window(self, at: datetime) -> bool:
        """R26: whether a post-graduation inter-provincial progression may be initiated at `at`."""
        return self.windows.in_progression_window(at)

"""The province policy schema: every configurable rule with its national default (RULES "Configurable")."""

from __future__ import annotations

from datetime import datetime
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from xueji_contracts.calendar import CalendarDays
from xueji_contracts.envelope import PROVINCE_PATTERN
from xueji_contracts.messages.transfer import Level
from xueji_contracts.policy.complaints import Complaints
from xueji_contracts.policy.materials import TransferMaterials
from xueji_contracts.policy.numbers import SupplementaryNumberFormat
from xueji_contracts.policy.reasons import TransferReasons
from xueji_contracts.policy.subscribers import StatusSubscriber
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


def _whole_half_bits(value: float) -> bool:
    return float(value * 2).is_integer()


class MatchWeights(_Section):
    """R14: the evidence, in bits (log2 of m/u, Fellegi-Sunter), each comparison outcome adds for "same person".

    m is how often one child's two records show the outcome, u how often two different children of one province
    whose records share a blocking key do. Every weight is a whole or half bit, so that a sum of weights can never
    land exactly on the review threshold (an odd multiple of a quarter bit): no pair is flagged or passed by `>=`.
    """

    name_identical: float = Field(default=13.0, description="same name after normalisation (dots, width, script)")
    name_same_sound: float = Field(default=10.0, description="every character reads the same (同音字)")
    name_alike: float = Field(
        default=8.0, description="one character sounds or looks alike (listed, or alike by its parts), the rest equal"
    )
    name_similar: float = Field(default=6.0, description="one character added, dropped or changed, 4 or more")
    name_one_char: float = Field(
        default=0.0,
        description="same surname and length (3 or more), one given-name character unlike that neither sounds nor "
        "looks alike: a clerk's slips sound or look alike, so this is as common between siblings, cousins and "
        "twins (generation characters) as between one child's two records (m ~ u)",
    )
    name_partial: float = Field(default=-4.0, description="shares the surname or a character")
    name_different: float = -10.0
    name_twins: float = Field(
        default=-16.0,
        description="given names two or more characters apart where the guardians and the birth date agree: twins "
        "are two children (one character apart is left to review: it may be a mistyped character)",
    )
    birth_date_identical: float = 12.0
    birth_date_transposed: float = Field(default=6.5, description="day and month swapped")
    birth_date_one_digit: float = Field(default=4.5, description="one digit of YYYYMMDD mistyped")
    birth_date_one_digit_near_name: float = Field(
        default=6.5,
        description="one digit of YYYYMMDD mistyped where the names are one slip apart (same sound, one character "
        "alike, one added or dropped), not identical: two small errors together. Different children with near names "
        "in one block are mostly one family's (twins born the same day, siblings and cousins years apart), whose "
        "dates are rarely one digit apart, so the two outcomes together are rarer between different children than "
        "their weights apart assume (u of both < u x u); identical names are namesakes, unrelated, and keep "
        "birth_date_one_digit",
    )
    birth_date_different: float = Field(
        default=-9.0,
        description="two or more digits apart, not swapped: a lunar date typed for the solar one or a wholly wrong "
        "date, in about 0.2% of one child's pairs of records (u ~ 1). Also keeps the audit's date filter lossless: "
        "with it no pair of different dates can reach review (batch_audit)",
    )
    gender_same: float = 1.0
    gender_different: float = -6.0
    region_same_county: float = Field(default=5.5, description="household register (else birthplace) county equal")
    region_same_city: float = 1.0
    region_same_province: float = -1.0
    region_different: float = -2.0
    guardian_same: float = Field(default=8.0, description="a guardian's name in common (also one typed alike)")
    guardian_different: float = Field(default=-12.0, description="both records name guardians, none in common")
    guardian_other_parent: float = Field(
        default=-2.0,
        description="none in common, but one record names only guardians of the child's surname and the other only "
        "guardians of another: perhaps the father on one form and the mother on the other",
    )
    id_birth_date_part: float = Field(
        default=12.0,
        description="two valid ID numbers, same name, equal but for the birth-date digits: a second ID number "
        "issued after a registration error (the birth dates then differ too; this weight covers both)",
    )
    id_near: float = Field(default=4.0, description="two valid ID numbers, same name, one digit apart or two swapped")
    id_reissued: float = Field(
        default=0.0,
        description="two valid ID numbers of one region (first 6 digits), other birth-date digits and sequence code, "
        "same name and a guardian in common: a number reissued with a corrected birth date. The name, guardian and "
        "region outcomes carry the evidence; this only takes the different birth dates' weight away",
    )

    @model_validator(mode="after")
    def _half_bits(self) -> Self:
        odd = [name for name, value in self.model_dump().items() if not _whole_half_bits(value)]
        if odd:
            raise ValueError(f"weights must be whole or half bits: {', '.join(odd)}")
        return self


class DuplicateCheck(_Section):
    """R01, R14: the fuzzy duplicate check. Only the same valid resident ID number refuses outright (no threshold
    here can refuse); a pair whose evidence reaches `review_threshold_bits` is a suspected duplicate (疑似重复) for
    the county bureau's review.

    The evidence of a pair is `prior_log2_odds` plus the weights of its comparison outcomes; its probability of
    being one child is 1 / (1 + 2^-evidence). Flagged when evidence >= review_threshold_bits, which must be an odd
    multiple of 0.25 (default -0.25 bits, p ~ 0.46): weights and prior are whole or half bits, so no pair lands
    exactly on the boundary."""

    prior_log2_odds: float = Field(default=-21.0, description="two records sharing a block are one child")
    review_threshold_bits: float = Field(
        default=-0.25,
        description="at or above: suspected duplicate, reviewed. p ~ 0.46: flag when p x (cost of a missed "
        "duplicate) exceeds (1 - p) x (cost of a review), a missed duplicate taken as about one review (-2.25, "
        "about five, reviewed too many namesakes on the blind set)",
    )
    weights: MatchWeights = MatchWeights()
    max_matches: int = Field(default=5, ge=1, le=50, description="how many matches a verdict lists, best first")

    @model_validator(mode="after")
    def _boundary_off_the_grid(self) -> Self:
        if not _whole_half_bits(self.prior_log2_odds):
            raise ValueError("prior_log2_odds must be a whole or half bit")
        quarters = self.review_threshold_bits * 4
        if not quarters.is_integer() or int(quarters) % 2 == 0:
            raise ValueError(
                "review_threshold_bits must be an odd multiple of 0.25 (e.g. -0.25, 0.75), so that no sum of "
                "half-bit weights lands exactly on it"
            )
        return self

    @property
    def review_probability(self) -> float:
        """The threshold as a match probability, for people who read probabilities."""
        return float(1.0 / (1.0 + 2.0 ** (-self.review_threshold_bits)))


class ProvincePolicy(_Section):
    """One province's rules. Sections a file leaves out, or fields inside them, take the national default.

    Provincial-only rules (timing R27, reasons R29, supplementary and certificate numbers R07/R08) have no national
    equivalent: None or empty means the province sets no such rule, and `unset_provincial_rules` names them so a
    service can say so at start. docs/provinces.md lists which fields are national defaults and which a province
    must transcribe from its own measures.
    """

    code: str = Field(pattern=PROVINCE_PATTERN, description="2-digit division code, e.g. 35 (quote it in YAML)")
    name: str = Field(min_length=1)
    name_zh: str | None = None
    source: str | None = Field(default=None, description="the provincial measures this file transcribes")
    sla: StageSla = StageSla()
    windows: TransferWindows = TransferWindows()
    timing: TransferTiming | None = None
    reasons: TransferReasons = TransferReasons()
    transfer_materials: TransferMaterials = Field(default=TransferMaterials(), description="R30 checklist")
    supplementary_number: SupplementaryNumberFormat | None = None
    deadlines: Deadlines = Deadlines()
    suspension: Suspension = Suspension()
    duplicate_check: DuplicateCheck = DuplicateCheck()
    complaints: Complaints = Complaints()
    calendar_adjustments: CalendarDays = CalendarDays()
    calendar_notices: dict[int, CalendarDays] = Field(
        default_factory=dict, description="year -> a State Council notice not yet in the national data (R31)"
    )
    status_subscribers: tuple[StatusSubscriber, ...] = Field(
        default=(), description="R52: systems that receive the public status feed, with the bureau's consent"
    )

    @field_validator("status_subscribers")
    @classmethod
    def _one_entry_per_subscriber(cls, subscribers: tuple[StatusSubscriber, ...]) -> tuple[StatusSubscriber, ...]:
        names = [s.name for s in subscribers]
        if len(set(names)) != len(names):
            raise ValueError("status_subscribers: each system is registered once (its name is its Kafka identity)")
        return subscribers

    @field_validator("calendar_notices")
    @classmethod
    def _notice_days_in_their_year(cls, notices: dict[int, CalendarDays]) -> dict[int, CalendarDays]:
        for year, days in notices.items():
            days.all_in_year(year)
        return notices

    def unset_provincial_rules(self) -> tuple[str, ...]:
        """The provincial-only rules this file does not set (no national default stands in for them): a real
        province transcribes these from its measures; until then nothing is refused under them."""
        unset = []
        if self.timing is None:
            unset.append("timing (R27: no handling period or excluded semesters, grade kept is not checked)")
        if not self.reasons.compulsory:
            unset.append("reasons.compulsory (R29: any reason code is accepted)")
        if not self.reasons.senior_high:
            unset.append("reasons.senior_high (R29: any reason code is accepted)")
        if self.supplementary_number is None:
            unset.append("supplementary_number (R07, R08: no supplementary or certificate numbers are given)")
        if not self.complaints.by_level and not self.complaints.by_code:
            unset.append("complaints (R53: the dispute route names no way to apply and no phone)")
        return tuple(unset)

    def in_blackout(self, at: datetime) -> bool:
        """R25: whether a new transfer may not be initiated at `at` (timezone-aware)."""
        return self.windows.in_blackout(at)

    def in_progression_window(self, at: datetime) -> bool:
        """R26: whether a post-graduation inter-provincial progression may be initiated at `at`."""
        return self.windows.in_progression_window(at)

"""The answer to a duplicate check: kind, score, the matched records and the evidence (R01, R14)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class VerdictKind(StrEnum):
    DUPLICATE = "duplicate"  # refuse the creation or change (R01)
    POSSIBLE_DUPLICATE = "possible_duplicate"  # hold as pending; the county bureau reviews
    UNIQUE = "unique"


class FeatureScore(BaseModel):
    """One comparison: its outcome (`level`), a similarity in 0..1 and the evidence in bits it added."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    level: str
    similarity: float = Field(ge=0.0, le=1.0)
    weight: float


class MatchedRecord(BaseModel):
    """An indexed record the request matched, with the rule that matched it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    student_id: str
    status_number: str | None
    score: float = Field(ge=0.0, le=1.0)
    rule: str = Field(description="id_number, status_number or fuzzy")
    features: tuple[FeatureScore, ...] = ()


class Verdict(BaseModel):
    """What the registry acts on, and what the reviewer reads (reasons in Chinese and English)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: VerdictKind
    score: float = Field(ge=0.0, le=1.0, description="probability of the best match being the same person")
    matches: tuple[MatchedRecord, ...] = Field(default=(), description="best first")
    features: tuple[FeatureScore, ...] = Field(default=(), description="the evidence of the best match")
    reason_zh: str
    reason_en: str
    candidates_compared: int = Field(ge=0, description="fuzzy comparisons made: what blocking saved")

    @property
    def matched_student_ids(self) -> tuple[str, ...]:
        return tuple(match.student_id for match in self.matches)

    @property
    def matched_status_numbers(self) -> tuple[str, ...]:
        return tuple(match.status_number for match in self.matches if match.status_number)

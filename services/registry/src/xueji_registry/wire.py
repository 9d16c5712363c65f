"""Private wire messages: dedupe check/verdict (until contracts' dedupe.py lands), R07 requests."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from xueji_registry.domain import DuplicateCheck, DuplicateOutcome


class _Message(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class CheckRequested(_Message):
    """Ask dedupe about one person before the record exists (R01, R14); private topic, so the ID travels."""

    student_id: str
    school_code: str = Field(pattern=r"^\d{10}$")
    name: str
    id_number: str | None = None
    gender: str
    birth_date: str


class Verdict(StrEnum):
    UNIQUE = "unique"
    DUPLICATE = "duplicate"
    POSSIBLE_DUPLICATE = "possible_duplicate"


class VerdictGiven(_Message):
    """dedupe's answer, matched to the request by the envelope's correlation id."""

    verdict: Verdict
    student_id: str | None = None
    existing_student_id: str | None = None
    score: float | None = None

    def as_check(self) -> DuplicateCheck:
        outcome = {
            Verdict.UNIQUE: DuplicateOutcome.CLEAR,
            Verdict.DUPLICATE: DuplicateOutcome.DUPLICATE,
            Verdict.POSSIBLE_DUPLICATE: DuplicateOutcome.POSSIBLE,
        }[self.verdict]
        existing = None if outcome is DuplicateOutcome.CLEAR else (self.existing_student_id or "unknown")
        return DuplicateCheck(outcome=outcome, existing_student_id=existing)


class SupplementaryRequested(_Message):
    """R07: give this new record its school's next supplementary number (keyed by school: one writer per school)."""

    student_id: str
    school_code: str = Field(pattern=r"^\d{10}$")
    school_year: int

"""County review cases for possible duplicates on `dedupe.review.v1` (R01, R14), as notify reads them.

A proposal from the notify side for the dedupe service to publish (or replace with its own models, keeping
the names notify matches on: `type` ReviewCaseOpened / ReviewCaseDecided). No raw ID numbers (R52):
records are named by opaque student ids, and the reasons say what matched, not the values.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

CODE = r"^\d{6}(\d{4})?$"


class ReviewCaseOpened(BaseModel):
    """A possible duplicate waits for the county bureau's review; the new record is held pending."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    case_id: str = Field(min_length=1)
    county_code: str = Field(pattern=r"^\d{6}$", description="the bureau that reviews")
    school_code: str = Field(pattern=CODE, description="the school whose new record waits")
    student_id: str = Field(description="opaque id of the pending record")
    candidate_student_id: str = Field(description="opaque id of the existing record it may duplicate")
    score: float = Field(ge=0.0, le=1.0)
    reason_zh: str
    reason_en: str
    opened_at: AwareDatetime


class ReviewDecision(StrEnum):
    SAME_PERSON = "same_person"
    DIFFERENT_PERSON = "different_person"


class ReviewCaseDecided(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    case_id: str = Field(min_length=1)
    county_code: str = Field(pattern=r"^\d{6}$")
    school_code: str = Field(pattern=CODE)
    student_id: str
    decision: ReviewDecision
    decided_by: str
    decided_at: AwareDatetime
    reason: str | None = Field(default=None, description="the bureau's reason, recorded permanently")

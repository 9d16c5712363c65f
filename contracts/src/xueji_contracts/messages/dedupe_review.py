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
    due_at: AwareDatetime | None = Field(
        default=None, description="decided by 24:00 of the R22 working day (Asia/Shanghai), as a UTC instant"
    )
    warn_at: AwareDatetime | None = Field(default=None, description="when the county is warned if still undecided")
    provisional: bool = Field(default=False, description="the deadline's year has no loaded calendar notice (R31)")


class ReviewDeadlineState(StrEnum):
    DUE_SOON = "due_soon"  # the warning before the deadline (R22): the county bureau is reminded
    OVERDUE = "overdue"  # the deadline passed undecided: escalated to the city bureau above (R22)


class ReviewCaseDeadline(BaseModel):
    """A review case's deadline warning or breach (R14 within the R22 working days), like a transfer stage's."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    case_id: str = Field(min_length=1)
    county_code: str = Field(pattern=r"^\d{6}$", description="the bureau that must decide")
    school_code: str = Field(pattern=CODE)
    student_id: str
    state: ReviewDeadlineState
    due_at: AwareDatetime
    escalated_to: str | None = Field(
        default=None, pattern=r"^\d{6}$", description="overdue: the city bureau (e.g. 350600) that now chases it"
    )


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

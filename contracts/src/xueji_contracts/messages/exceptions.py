"""Payloads on `rules.exception.v1`: exceptions to "generally" rules (RULES "Exceptions"; R08, R27, R40).

Where a seed says 一般 / "generally" / "in principle", the system refuses by default and names the rule; only the
named authority may record an exception, as its own event: R27 the receiving county bureau, R40 the school's
county bureau, R08 the bureau that prints reissues. A school never grants one. Every producer (the registry for
R08 and R40, the transfer service for R27) publishes the same payload, so the semester audit (R51) and the
dashboard list them alike, whatever the rule.
"""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from xueji_contracts.auth import Role

RULE = r"^R\d{2}$"
CODE = r"^\d{6}(\d{4})?$"


class RuleExceptionRecorded(BaseModel):
    """An authority recorded an exception to a rule's default for one student or one transfer.

    Carries codes, the operator's id and the written reason; never a name or an ID number (R52)."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        json_schema_extra={
            "x-producer": "registry, transfer",
            "examples": [
                {
                    "exception_id": "exc_stu_6f1c2a9e-12",
                    "rule": "R40",
                    "clause": "graduation_semester",
                    "authority": "county",
                    "jurisdiction": "350602",
                    "operator": "county-clerk-7",
                    "reason": "重病住院，毕业学期确需休学",
                    "evidence": ["doc://medical/2027-0311"],
                    "occurred_at": "2027-03-12T02:00:00Z",
                    "subject_kind": "student",
                    "subject_id": "stu_6f1c2a9e4b7d4e0f9a3b5c7d1e2f3a4b",
                    "school_code": "3506020001",
                }
            ],
        },
    )

    exception_id: str = Field(min_length=1, description="stable per exception: a redelivery is the same one")
    rule: str = Field(pattern=RULE, description="the RULES.md id whose default is excepted, e.g. R40")
    clause: str = Field(
        min_length=1, max_length=60, description="which default of the rule, e.g. graduation_semester, second_reissue"
    )
    authority: Role = Field(description="the level that recorded it (never school)")
    jurisdiction: str = Field(pattern=CODE, description="the authority's division code, e.g. the county 350602")
    operator: str = Field(min_length=1, description="the operator id (token subject) who recorded it")
    reason: str = Field(min_length=1, max_length=500, description="the written reason")
    evidence: tuple[str, ...] = Field(min_length=1, description="references of the supporting documents")
    occurred_at: AwareDatetime
    subject_kind: str = Field(pattern=r"^(student|transfer)$", description="what the exception is about")
    subject_id: str = Field(min_length=1, description="opaque student id or transfer id")
    school_code: str | None = Field(default=None, pattern=r"^\d{10}$", description="the school concerned, if one")

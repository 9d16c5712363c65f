"""The transfer application the domain tests start from, and the materials they attach: each test names only what
it is about (a grade 4 pupil moving house in the spring term of 2025, from a Fuzhou school to a Zhangzhou one)."""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

from xueji_contracts.auth import OperatorClaims, Role
from xueji_contracts.messages.status import StatusState
from xueji_contracts.messages.transfer import Decision, Stage
from xueji_transfer import domain as d

RECEIVING, SENDING = "3506020001", "3501020003"
SPRING_2025 = d.SchoolTerm(start=date(2025, 2, 17), end=date(2025, 7, 4), semester=2)
# The receiving school's clerk and its county bureau's, who decide the receiving stages.
RS = OperatorClaims(sub="clerk-rs", role=Role.SCHOOL, code=RECEIVING)
RB = OperatorClaims(sub="bureau-rb", role=Role.COUNTY, code="350602")


def evidence(kind: d.EvidenceKind) -> d.Evidence:
    return d.Evidence(kind=kind, uri=f"s3://m/{kind.value}", sha256=hashlib.sha256(kind.value.encode()).hexdigest())


def application(
    *, sending: str | d.SchoolSide = SENDING, receiving: str | d.SchoolSide = RECEIVING, **changes: Any
) -> d.TransferApplication:
    """The schools by code, or as a SchoolSide where the test is about the school's kind or rank."""
    fields: dict[str, Any] = {
        "student_id": "stu-1",
        "status": StatusState.ENROLLED,
        "sending": sending if isinstance(sending, d.SchoolSide) else d.SchoolSide(code=sending),
        "receiving": receiving if isinstance(receiving, d.SchoolSide) else d.SchoolSide(code=receiving),
        "grade": 4,
        "target_grade": 4,
        "term": SPRING_2025,
        "reason": "household_move",
    }
    return d.TransferApplication(**(fields | changes))


def returned(stage: Stage, operator: OperatorClaims, reason: str, *requested: d.EvidenceKind) -> d.DecideStage:
    """`stage` returns the case for more materials, naming the kinds `requested` (none: any)."""
    return d.DecideStage(
        stage=stage, decision=Decision.RETURN_FOR_MATERIALS, operator=operator, reason=reason, requested=requested
    )


def rejected(stage: Stage, operator: OperatorClaims, code: d.RejectionReason, reason: str = "x") -> d.DecideStage:
    """`stage` rejects the case for the reason `code`."""
    return d.DecideStage(stage=stage, decision=Decision.REJECT, operator=operator, reason_code=code, reason=reason)

"""Preconditions every decision shares: the case exists and runs, the operator is the acting party (R21, R50)."""

from __future__ import annotations

from xueji_contracts.auth import OperatorClaims
from xueji_contracts.messages.transfer import Level
from xueji_transfer.domain.errors import OutOfOrder, OutsideJurisdiction
from xueji_transfer.domain.jurisdiction import acts_as
from xueji_transfer.domain.state import CasePhase, TransferCase


def existing(case: TransferCase | None) -> TransferCase:
    if case is None:
        raise OutOfOrder("R21", "no such transfer case: it starts with the guardian's application (step 1)")
    return case


def running(case: TransferCase | None, *, phases: tuple[CasePhase, ...] = (CasePhase.ACTIVE,)) -> TransferCase:
    case = existing(case)
    if case.phase not in phases:
        raise OutOfOrder("R21", f"the case is {case.phase.value}")
    return case


def party(operator: OperatorClaims, level: Level, code: str, *, rule: str = "R50", role_name: str = "") -> None:
    """Refuse anyone but the party itself: a county operator may not act for a school in it, nor vice versa."""
    if not acts_as(operator, level, code):
        who = role_name or f"the {level.value} {code}"
        raise OutsideJurisdiction(
            rule, f"only {who} may do this; {operator.role.value} {operator.code} may not", field="operator"
        )

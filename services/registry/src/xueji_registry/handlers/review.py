"""dedupe.review.v1 -> the county's decision on a possible duplicate confirms or refuses the pending record (R14)."""

from __future__ import annotations

from typing import Any

from faststream import Context

from xueji_contracts.auth import OperatorClaims, Role
from xueji_contracts.envelope import derive_id
from xueji_contracts.messages.dedupe_review import ReviewCaseDecided, ReviewDecision
from xueji_registry.domain import ReviewChange
from xueji_registry.numbers.supplementary import request_supplementary
from xueji_registry.service import RegistryService

DECIDED = {"ReviewCaseDecided", "ReviewDecided"}


async def on_review(message: dict[str, Any], service: RegistryService = Context("registry")) -> None:
    if message.get("type") not in DECIDED:
        return  # case opened: nothing to do until the county decides
    decided = ReviewCaseDecided.model_validate(message["payload"])
    state = await service.load(decided.student_id)
    pending = state.pending_change("chg-2") if state is not None else None
    if state is None or pending is None:
        return  # not ours, or already settled
    command = ReviewChange(
        operator=OperatorClaims(sub=decided.decided_by, role=Role.COUNTY, code=decided.county_code),
        reason=f"county review of a possible duplicate: {decided.decision.value}",
        change_id=pending.change_id,
        approve=decided.decision is ReviewDecision.DIFFERENT_PERSON,
    )
    extra = request_supplementary(service, state.admitted_on.year, None)
    commit_id = str(derive_id(message["message_id"], "review"))
    await service.execute(decided.student_id, commit_id, command, extra=extra)

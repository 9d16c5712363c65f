"""The county review queue over HTTP (R14, R50): list the cases in the operator's jurisdiction, decide one."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field

from xueji_contracts.auth import OperatorClaims, Role
from xueji_contracts.envelope import derive_id
from xueji_contracts.messages.dedupe_review import ReviewDecision
from xueji_dedupe.api.common import dedupe_of
from xueji_dedupe.cases import Position
from xueji_dedupe.domain.review import ReviewRefused
from xueji_kit.idempotency import IdempotencyKey
from xueji_kit.security import Operator, found_in_jurisdiction, require_jurisdiction

router = APIRouter(prefix="/v1/review-cases", tags=["review"])


class DecisionBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    decision: ReviewDecision = Field(description="same_person: refuse the new record; different_person: release it")
    reason: str = Field(min_length=2, max_length=500, description="why: recorded permanently with the operator")


async def _case_for(request: Request, operator: OperatorClaims, case_id: str) -> dict[str, Any]:
    """The case, for an operator at county level or above whose jurisdiction holds it (R50)."""
    case = await dedupe_of(request).case(case_id)
    return found_in_jurisdiction(operator, case, "county_code", f"no review case {case_id}", at_least=Role.COUNTY)


def _shown(case: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in case.items() if k != "_id"}


def _cursor(position: Position) -> str:
    """Opaque to the caller: where the next page starts, as URL-safe base64 of JSON."""
    return base64.urlsafe_b64encode(json.dumps(list(position)).encode()).decode().rstrip("=")


def _position(cursor: str) -> Position:
    """The position a cursor of `_cursor` names; 422 naming `cursor` for anything else."""
    try:
        opened_at, case_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if isinstance(opened_at, str) and isinstance(case_id, str) and case_id.isprintable() and len(case_id) < 100:
            datetime.fromisoformat(opened_at)
            return opened_at, case_id
    except (ValueError, TypeError):
        pass
    reason = "not a next_cursor this list gave: start again without it"
    raise HTTPException(422, [{"field": "cursor", "reason": reason, "in": "query"}])


@router.get(
    "",
    summary="Review cases in the operator's jurisdiction (county and above), oldest first, a page at a time",
    description="`limit` cases a page; `next_cursor` (null on the last page) is passed back as `cursor` for the "
    "next one. The order (opened_at, then case id) is stable: a case opened meanwhile comes at the end.",
)
async def list_cases(
    operator: Operator,
    request: Request,
    state: Literal["open", "decided"] | None = None,
    limit: Annotated[int, Query(ge=1, le=500, description="cases on this page")] = 100,
    cursor: Annotated[str | None, Query(max_length=400, description="the previous page's next_cursor")] = None,
) -> dict[str, Any]:
    require_jurisdiction(operator, operator.code, at_least=Role.COUNTY)
    after = _position(cursor) if cursor else None
    cases, last = await dedupe_of(request).cases_in(operator.prefix, state, after, limit)
    return {"cases": [_shown(case) for case in cases], "next_cursor": _cursor(last) if last else None}


@router.get("/{case_id}", summary="One review case, with both records (ID numbers masked)")
async def show_case(case_id: str, operator: Operator, request: Request) -> dict[str, Any]:
    return _shown(await _case_for(request, operator, case_id))


@router.post("/{case_id}/decision", summary="The county bureau decides: same person or different persons")
async def decide(
    case_id: str, body: DecisionBody, operator: Operator, request: Request, key: IdempotencyKey = None
) -> dict[str, Any]:
    if operator.role is not Role.COUNTY:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "review cases are decided by the county bureau (R50)")
    case = await _case_for(request, operator, case_id)
    # A retry with the same Idempotency-Key is the same decision: its commit is found, not refused as a second one.
    commit = str(derive_id("http", operator.sub, case_id, key) if key else uuid.uuid4())
    try:
        decided = await dedupe_of(request).decide_case(case_id, operator, body.decision, body.reason, commit)
    except ReviewRefused as exc:
        raise HTTPException(exc.status, exc.reason) from None
    return _shown(decided or case)

"""Dedupe HTTP routes for operators: a synchronous duplicate check, and the index's size (thin: authorize, answer)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import Field

from xueji_contracts.auth import Role
from xueji_contracts.messages.dedupe import CheckRequested, VerdictGiven
from xueji_dedupe.api.common import dedupe_of
from xueji_kit.security import Operator, require_jurisdiction

router = APIRouter(prefix="/v1", tags=["checks"])


class OperatorCheck(CheckRequested):
    """A check an operator asks before acting; nothing is stored and no review case is opened."""

    student_id: str | None = Field(  # type: ignore[assignment]
        default=None, min_length=1, description="the record being changed, if any: it never matches itself"
    )


@router.post("/checks", summary="Is this person already registered? (R01, R06, R14; national tier: R03, R10)")
async def check(body: OperatorCheck, operator: Operator, request: Request) -> VerdictGiven:
    """The verdict with its score, matches and reasons. An invalid ID number is a 422 naming `id_number` (R06)."""
    require_jurisdiction(operator, body.school_code, at_least=Role.SCHOOL)
    return await dedupe_of(request).preview(body)


@router.get("/index", summary="How many records the duplicate check compares against")
async def index_size(operator: Operator, request: Request) -> dict[str, Any]:
    require_jurisdiction(operator, operator.code, at_least=Role.PROVINCE)
    return dedupe_of(request).index_size()

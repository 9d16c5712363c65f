"""R07 over HTTP: a school registers a student the province already knows as its freshman of a later segment.

The enrollment of such a student is refused as a duplicate (R01) naming the existing record; the school registers
that record here instead, and gets that segment's supplementary number for it (the earlier one stays)."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel, ConfigDict, Field

from xueji_contracts.auth import Role
from xueji_kit.idempotency import IdempotencyKey
from xueji_kit.security import Operator, require_jurisdiction
from xueji_registry.api.commits import as_committed, commit_of
from xueji_registry.api.common import http_error, service_of
from xueji_registry.domain import RegisterFreshman, RegistryError, Segment
from xueji_registry.domain.periods import school_year_start
from xueji_registry.numbers.supplementary import request_supplementary

router = APIRouter(prefix="/v1", tags=["changes"])


class FreshmanBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)  # spaces alone are no reason (R12)

    school_code: str = Field(pattern=r"^\d{10}$", description="the school the student registers at")
    segment: Segment = Field(description="junior or senior: later than the segment the student finished")
    grade: int = Field(ge=1, le=12)
    school_year: int = Field(ge=2000, le=2099, description="the school year of the freshman class (its number)")
    admitted_on: date | None = Field(default=None, description="default: the school year's first day")
    reason: str = Field(default="新生注册", min_length=1, max_length=500)


@router.post(
    "/students/{student_id}/freshman",
    summary="R07: register a known student as this school's freshman of a later segment (gets that segment's number)",
)
async def register_freshman(
    student_id: str, body: FreshmanBody, operator: Operator, request: Request, key: IdempotencyKey = None
) -> dict[str, Any]:
    # Who may act is settled before anything about the record is said (R50): the school registering, itself.
    if operator.role is not Role.SCHOOL:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, f"a freshman registration (R07) is for a school operator, not {operator.role}"
        )
    require_jurisdiction(operator, body.school_code)
    service = service_of(request)
    if await service.load(student_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no student {student_id}")
    command = RegisterFreshman(
        operator=operator,
        reason=body.reason,
        school_code=body.school_code,
        segment=body.segment,
        grade=body.grade,
        admitted_on=body.admitted_on or school_year_start(body.school_year),
        school_year=body.school_year,
    )
    extra = request_supplementary(service, body.school_year, None)
    try:
        saved = await service.execute(student_id, commit_of(command, student_id, key), command, extra=extra)
    except RegistryError as exc:
        raise http_error(exc) from None
    state = await as_committed(service, student_id, saved)  # a retry answers what the first run did
    return {
        "student_id": student_id,
        "version": saved.version,
        "state": state.state.value,
        "school_code": state.school_code,
        "segment": state.segment.value,
        "grade": state.grade,
    }

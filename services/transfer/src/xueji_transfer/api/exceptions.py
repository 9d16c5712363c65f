"""Exceptions to R27's "generally" over HTTP: the receiving county bureau records one; anyone covering it reads it."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Request, status
from pydantic import BaseModel, ConfigDict, Field

from xueji_contracts.envelope import derive_id
from xueji_kit.idempotency import IdempotencyKey
from xueji_kit.security import Operator
from xueji_transfer.api.common import build, commit_id, service_of
from xueji_transfer.domain import Evidence, RecordTimingException, TimingException

router = APIRouter(prefix="/v1/exceptions", tags=["exceptions"])
ExceptionId = Annotated[str, Path(pattern=r"^exc_[0-9a-f]{32}$")]


class ExceptionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rule: Literal["R27"] = Field(description="transfer records R27 exceptions; R08 and R40 are the registry's")
    clause: str = Field(
        description="handling_period, first_grade_first_semester or graduation_grade_last_semester", max_length=60
    )
    student_id: str = Field(min_length=1, max_length=100)
    receiving_school: str = Field(pattern=r"^\d{10}$")
    reason: str = Field(max_length=500, description="the written reason")
    evidence: tuple[Evidence, ...] = Field(default=(), max_length=20, description="references of the documents")


def view(exception: TimingException) -> dict[str, Any]:
    return exception.model_dump(mode="json", exclude={"type"})


@router.post("", status_code=status.HTTP_201_CREATED, summary="Record an exception to R27 (receiving county bureau)")
async def record(
    body: ExceptionRequest, operator: Operator, request: Request, key: IdempotencyKey = None
) -> dict[str, Any]:
    service = service_of(request)
    exception_id = f"exc_{derive_id(operator.sub, 'exception', key).hex if key else uuid.uuid4().hex}"
    fields = body.model_dump(exclude={"rule"})
    command = build(RecordTimingException, None, operator, **fields, exception_id=exception_id)
    commit = commit_id(operator, "exception", key)
    exception = await request.app.state.exceptions.record(command, commit, service.clock())
    return view(exception)


@router.get("/{exception_id}", summary="One recorded exception")
async def detail(exception_id: ExceptionId, operator: Operator, request: Request) -> dict[str, Any]:
    exception = await request.app.state.exceptions.load(exception_id)
    if exception is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no exception {exception_id}")
    if not (operator.covers(exception.receiving_school) or operator.covers(exception.jurisdiction)):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"R50: {exception_id} is outside {operator.code}")
    return view(exception)

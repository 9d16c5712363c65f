"""Registry HTTP routes for enrollment and reading a record: thin — validate, authorize, hand over, answer."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response, status
from pydantic import Field

from xueji_contracts.auth import OperatorClaims, Role
from xueji_contracts.calendar import local_date
from xueji_contracts.envelope import derive_id
from xueji_contracts.identity import mask_in_document
from xueji_kit.errors import RuleRefused
from xueji_kit.idempotency import IdempotencyKey, key_reused
from xueji_kit.security import Operator, require_jurisdiction
from xueji_registry.api.common import http_error, service_of, unknown_student
from xueji_registry.domain import public_view
from xueji_registry.domain.authorization import may_enroll
from xueji_registry.domain.enrollment_request import EnrollmentRequest, admitted_after, born_after, contradictions
from xueji_registry.enrollment.requests import (
    NotCorrectable,
    corrected_chain,
    pending_stream,
    pending_view,
    request_enrollment,
)
from xueji_registry.service import RegistryService, history_entries

router = APIRouter(prefix="/v1", tags=["students"])


async def _current(service: RegistryService, student_id: str) -> tuple[str, dict[str, Any]]:
    """(school code, view) of a record, or of its pending enrollment; 404 when neither exists."""
    state = await service.load(student_id)
    if state is not None:
        view = public_view(state).model_dump(mode="json")
        view["pending_changes"] = [p.model_dump(mode="json", include={"change_id", "phase"}) for p in state.pending]
        return state.school_code, view
    commits = await service.events.load(pending_stream(student_id))
    if not commits:
        raise unknown_student(student_id)
    return commits[0]["events"][0]["request"]["school_code"], pending_view(student_id, commits)


async def _visible(service: RegistryService, student_id: str, operator: OperatorClaims) -> dict[str, Any]:
    """The view of a record the operator's jurisdiction holds. Outside it, the answer a missing record gets: who
    may look is settled before anything about the record is said (R50)."""
    school, view = await _current(service, student_id)
    if not operator.covers(school):
        raise unknown_student(student_id)
    return view


class Enrollment(EnrollmentRequest):
    """A school's enrollment request, with the refused request it corrects, if any (not part of the stored request)."""

    corrects: str | None = Field(
        default=None,
        pattern=r"^stu_[0-9a-f]{32}$",
        description="R01: the student id of this school's refused enrollment request that this one corrects (refused "
        "after the duplicate check, e.g. R02 for its grade, and sent again corrected). Its duplicate check then names "
        "it, and the refused requests it corrected in turn (up to 20 in all), and is not refused as a duplicate of any "
        "of them, even before dedupe has read their refusals. 422 naming `corrects` "
        "when there is no such request, it was not refused, or it is another school's (answered as no such request)",
    )


@router.post("/students", status_code=status.HTTP_201_CREATED, summary="Enroll a student (R01, R06, R14)")
async def enroll(
    enrollment: Enrollment, operator: Operator, request: Request, response: Response, key: IdempotencyKey = None
) -> dict[str, Any]:
    """201 once dedupe has answered and the record exists; 202 while it waits for the check; 409 if a duplicate;
    422 naming `admitted_on` for an admission date after today (R02) or `birth_date` for a birth date after today
    (R14), and 403 naming R50 for an operator who is not a school's (the school enrolls, its bureau verifies), before
    anything is stored or asked.
    A request that corrects a refused one names it in `corrects` (422 naming `corrects` if it is not this school's
    refused request): without it, sent before dedupe has read the refusal, it may be refused as an R01 duplicate of
    the refused request.
    A retry with the same Idempotency-Key is the same request: it stores and asks nothing, and gets the answer the
    first one has now."""
    body = EnrollmentRequest.model_validate(enrollment.model_dump(exclude={"corrects"}))
    require_jurisdiction(operator, body.school_code, at_least=Role.SCHOOL)
    if not (enrolling := may_enroll(operator)).allowed:  # before anything is stored or dedupe is asked
        raise HTTPException(status.HTTP_403_FORBIDDEN, enrolling.reason)
    today = local_date(datetime.now(UTC))
    if (early := admitted_after(body, today) or born_after(body, today)) is not None:
        raise http_error(early)
    service = service_of(request)
    corrects: tuple[str, ...] = ()
    if enrollment.corrects:
        try:
            corrects = await corrected_chain(service, enrollment.corrects, body.school_code)
        except NotCorrectable as exc:
            raise RuleRefused("R01", str(exc), "corrects") from None
    correlation = derive_id("http", "enroll", operator.sub, key) if key else None
    student_id, stored = await request_enrollment(service, body, operator, correlation, corrects)
    if not stored:
        first = (await service.events.load(pending_stream(student_id)))[0]["events"][0]["request"]
        if first != body.model_dump(mode="json"):
            raise key_reused()
    # What the request says against itself (its ID number's birth date or gender): told, not refused (R14).
    warnings = {"warnings": [{"field": f, "reason": r} for f, r in found]} if (found := contradictions(body)) else {}
    # The wait is time, not a number of polls: each poll is store round trips, seconds on a slow store.
    deadline = time.monotonic() + service.settings.enrollment_wait_seconds
    while time.monotonic() < deadline:
        _, view = await _current(service, student_id)
        if view["state"] == "refused":
            raise HTTPException(status.HTTP_409_CONFLICT, view)
        if view["state"] != "awaiting_duplicate_check":
            return view | warnings
        await asyncio.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
    response.status_code = status.HTTP_202_ACCEPTED
    return {"student_id": student_id, "state": "awaiting_duplicate_check"} | warnings


@router.get("/students/{student_id}", summary="A student's current status (masked numbers)")
async def show(student_id: str, operator: Operator, request: Request) -> dict[str, Any]:
    return await _visible(service_of(request), student_id, operator)


@router.get("/students/{student_id}/history", summary="Every recorded change of one student (R12), numbers masked")
async def history(student_id: str, operator: Operator, request: Request) -> dict[str, Any]:
    service = service_of(request)
    await _visible(service, student_id, operator)
    commits = await service.events.load(pending_stream(student_id)) + await service.events.load(student_id)
    # R52: ID numbers (bare, or inside a G/L/J status number) leave only through the identity route.
    return {"student_id": student_id, "history": mask_in_document(history_entries(commits))}


IDENTITY_ROLES = (Role.SCHOOL, Role.COUNTY)  # the school's status clerk and the county bureau that verifies


@router.get(
    "/students/{student_id}/identity",
    summary="R52: the full ID number, for the school's clerk and its county bureau; every view is recorded (R51)",
)
async def identity(student_id: str, operator: Operator, request: Request) -> dict[str, Any]:
    service = service_of(request)
    state = await service.load(student_id)
    if state is None or not operator.covers(state.school_code):
        raise unknown_student(student_id)
    if operator.role not in IDENTITY_ROLES:
        who = f"only the school's clerk and its county bureau see ID numbers, not a {operator.role} operator"
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"R52: {who}")
    await service.identity_views.record(student_id, state.school_code, operator, datetime.now(UTC))
    person = state.identity
    return {
        "student_id": student_id,
        "school_code": state.school_code,
        "name": person.name,
        "id_number": person.id_number,
        "gender": person.gender.value,
        "birth_date": person.birth_date.isoformat(),
        "status_number": state.status_number,
        "previous_id_numbers": list(state.previous_id_numbers),
    }

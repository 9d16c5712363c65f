"""Registry HTTP routes for enrollment and reading a record: thin — validate, authorize, hand over, answer."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response, status

from xueji_contracts.auth import Role
from xueji_kit.runtime import ServiceRuntime
from xueji_kit.security import Operator, require_jurisdiction
from xueji_registry import records
from xueji_registry.domain import public_view
from xueji_registry.enrollment import EnrollmentRequest, pending_stream, pending_view, request_enrollment

router = APIRouter(prefix="/v1", tags=["students"])


def runtime_of(request: Request) -> ServiceRuntime:
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime


async def _current(runtime: ServiceRuntime, student_id: str) -> tuple[str, dict[str, Any]]:
    """(school code, view) of a record, or of its pending enrollment; 404 when neither exists."""
    state = await records.load(runtime, student_id)
    if state is not None:
        view = public_view(state).model_dump(mode="json")
        view["pending_changes"] = [p.model_dump(mode="json", include={"change_id", "phase"}) for p in state.pending]
        return state.school_code, view
    commits = await runtime.events.load(pending_stream(student_id))
    if not commits:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no student {student_id}")
    return commits[0]["events"][0]["request"]["school_code"], pending_view(student_id, commits)


@router.post("/students", status_code=status.HTTP_201_CREATED, summary="Enroll a student (R01, R06, R14)")
async def enroll(body: EnrollmentRequest, operator: Operator, request: Request, response: Response) -> dict[str, Any]:
    """201 once dedupe has answered and the record exists; 202 while it waits for the check; 409 if a duplicate."""
    require_jurisdiction(operator, body.school_code, at_least=Role.SCHOOL)
    runtime = runtime_of(request)
    student_id, _ = await request_enrollment(runtime, body, operator)
    wait = getattr(runtime.settings, "enrollment_wait_seconds", 2.0)
    for _ in range(int(wait / 0.05)):
        _, view = await _current(runtime, student_id)
        if view["state"] == "refused":
            raise HTTPException(status.HTTP_409_CONFLICT, view)
        if view["state"] != "awaiting_duplicate_check":
            return view
        await asyncio.sleep(0.05)
    response.status_code = status.HTTP_202_ACCEPTED
    return {"student_id": student_id, "state": "awaiting_duplicate_check"}


@router.get("/students/{student_id}", summary="A student's current status (masked numbers)")
async def show(student_id: str, operator: Operator, request: Request) -> dict[str, Any]:
    school, view = await _current(runtime_of(request), student_id)
    require_jurisdiction(operator, school)
    return view


@router.get("/students/{student_id}/history", summary="Every recorded change of one student (R12)")
async def history(student_id: str, operator: Operator, request: Request) -> dict[str, Any]:
    runtime = runtime_of(request)
    school, _ = await _current(runtime, student_id)
    require_jurisdiction(operator, school)
    commits = await runtime.events.load(pending_stream(student_id)) + await runtime.events.load(student_id)
    return {"student_id": student_id, "history": records.history_entries(commits)}

"""Registry HTTP routes: thin — validate, authorize by jurisdiction, hand to the service, answer."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Request, status

from xueji_contracts.auth import Role
from xueji_contracts.envelope import envelop
from xueji_contracts.topics import STUDENT_STATUS
from xueji_kit.runtime import ServiceRuntime
from xueji_kit.security import Operator, require_jurisdiction
from xueji_kit.store import Outgoing
from xueji_registry.enrollment import EnrollmentRequest, recorded_event

router = APIRouter(prefix="/v1", tags=["students"])


def _runtime(request: Request) -> ServiceRuntime:
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime


@router.post("/students", status_code=status.HTTP_201_CREATED, summary="Enroll a student and record the status")
async def enroll(body: EnrollmentRequest, operator: Operator, request: Request) -> dict[str, Any]:
    require_jurisdiction(operator, body.school_code, at_least=Role.SCHOOL)
    runtime = _runtime(request)
    student_id = f"stu_{uuid.uuid4().hex}"
    # Until number allocation lands, the temporary number is the ID number when there is one.
    status_number = f"G{body.id_number}" if body.id_number else f"L{student_id[-17:]}"
    now = datetime.now(UTC)
    message = envelop(
        recorded_event(student_id, body, status_number),
        producer="registry",
        province=runtime.settings.province,
        occurred_at=now,
        correlation_id=uuid.UUID(request.state.correlation_id) if _is_uuid(request.state.correlation_id) else None,
    )
    event = {
        "type": "StudentEnrolled",
        "at": now,
        "by": operator.model_dump(mode="json"),
        "student": body.model_dump(mode="json"),
        "status_number": status_number,
    }
    await runtime.events.append(
        commit_id=str(message.message_id),
        aggregate_id=student_id,
        version=1,
        events=[event],
        outgoing=[Outgoing(STUDENT_STATUS.name, student_id, message)],
        now=now,
    )
    runtime.relay.nudge()
    return {"student_id": student_id, "state": "enrolled", "message_id": str(message.message_id)}


@router.get("/students/{student_id}/history", summary="Every recorded change of one student (R12)")
async def history(student_id: str, operator: Operator, request: Request) -> dict[str, Any]:
    commits = await _runtime(request).events.load(student_id)
    if not commits:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no student {student_id}")
    school = commits[0]["events"][0]["student"]["school_code"]
    require_jurisdiction(operator, school)
    return {
        "student_id": student_id,
        "history": [{"version": c["version"], **e} for c in commits for e in c["events"]],
    }


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True

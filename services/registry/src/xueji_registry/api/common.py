"""What every registry route shares: the service, the answer for a record the operator may not see, and how a
refusal of the domain becomes a 403 / 404 / 409 / 422 naming the rule."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, Request, status

from xueji_registry.domain import (
    DuplicateStatus,
    IllegalTransition,
    OutsideJurisdiction,
    RecordClosed,
    RegistryError,
    UnknownRecord,
)
from xueji_registry.service import RegistryService


def service_of(request: Request) -> RegistryService:
    service: RegistryService = request.app.state.registry
    return service


def unknown_student(student_id: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"no student {student_id}")


def http_error(exc: RegistryError) -> HTTPException:
    """The domain's refusal as an HTTP answer that names the rule and, for 409, the current state."""
    body: dict[str, Any] = {"rule": exc.rule, "reason": exc.reason, "field": exc.field}
    if isinstance(exc, IllegalTransition):
        return HTTPException(status.HTTP_409_CONFLICT, {**body, "current_state": exc.current.value})
    if isinstance(exc, OutsideJurisdiction):
        return HTTPException(status.HTTP_403_FORBIDDEN, f"{exc.reason} (R50: outside the jurisdiction)")
    if isinstance(exc, UnknownRecord):
        return HTTPException(status.HTTP_404_NOT_FOUND, body)
    code = status.HTTP_409_CONFLICT if isinstance(exc, DuplicateStatus | RecordClosed) else 422
    return HTTPException(code, body)

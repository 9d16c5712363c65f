"""What every registry route shares: the service, the answer for a record the operator may not see, and how a
refusal of the domain becomes a 403 / 404 / 409 / 422 naming the rule."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import HTTPException, Request, status

from xueji_kit.errors import RuleRefused
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


def http_error(exc: RegistryError, *, top: Iterable[str] = (), nested: str | None = None) -> HTTPException:
    """The domain's refusal as an HTTP answer that names the rule and, for 409, the current state. A 422 names the
    field as the body holds it: a field the body has not at its top level (`top`) sits under `nested`."""
    body: dict[str, Any] = {"rule": exc.rule, "reason": exc.reason, "field": exc.field}
    if isinstance(exc, IllegalTransition):
        return HTTPException(status.HTTP_409_CONFLICT, {**body, "current_state": exc.current.value})
    if isinstance(exc, OutsideJurisdiction):
        return HTTPException(status.HTTP_403_FORBIDDEN, f"{exc.reason} (R50: outside the jurisdiction)")
    if isinstance(exc, UnknownRecord):
        return HTTPException(status.HTTP_404_NOT_FOUND, body)
    if isinstance(exc, DuplicateStatus | RecordClosed):
        return HTTPException(status.HTTP_409_CONFLICT, body)
    field = exc.field
    if field and nested and top and field.split(".")[0] not in top:
        field = f"{nested}.{field}"
    return RuleRefused(exc.rule, exc.reason, field)  # 422 in the shape of every other: {field, reason, in}

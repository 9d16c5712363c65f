"""What every transfer route shares, and how a refusal becomes a 403 / 409 / 422 naming the rule."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Annotated, Any, TypeVar

from fastapi import HTTPException, Path, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError

from xueji_contracts.auth import OperatorClaims
from xueji_contracts.envelope import derive_id
from xueji_kit.aggregates import load_stream
from xueji_kit.http import field_problems
from xueji_transfer import inbox
from xueji_transfer.domain import (
    OutsideJurisdiction,
    Refused,
    TransferApplication,
    TransferCase,
    from_documents,
    replay,
)
from xueji_transfer.service import CaseRefused, TransferService

TransferId = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")]


def service_of(request: Request) -> TransferService:
    service: TransferService = request.app.state.transfer
    return service


def commit_id(operator: OperatorClaims, scope: str, key: str | None) -> str:
    """A retried request with the same Idempotency-Key is the same commit; without one, every request is new."""
    return str(derive_id("http", operator.sub, scope, key)) if key else str(uuid.uuid4())


async def as_committed(request: Request, transfer_id: str, commit: str, case: TransferCase) -> TransferCase:
    """The case as the commit `commit` left it, which its request answers: `case` (as decided now) when that commit
    is the case's latest, as on a first run; read up to it when later steps followed (the request retried with its
    key after its first answer was not kept), so the retry answers what the first answer said."""
    service = service_of(request)
    stream = await load_stream(service.events, transfer_id, service.streams)
    version = stream.commit_ids.get(commit)
    if version is None or version == stream.version:
        return case
    return replay(from_documents(await service.events.events_until(transfer_id, version))) or case


def correlation(request: Request) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(getattr(request.state, "correlation_id", "")))
    except ValueError:
        return None


C = TypeVar("C", bound=BaseModel)


def build(command: type[C], body: BaseModel | None, operator: OperatorClaims, **extra: Any) -> C:
    """The domain command from a request body; a cross-field problem it finds is a 422 naming the field."""
    fields = body.model_dump() if body is not None else {}
    try:
        return command.model_validate({**fields, **extra, "operator": operator})
    except ValidationError as exc:
        problems = [_named(p, command) for p in field_problems(exc.errors()) if p["field"] != "operator"]
        raise HTTPException(422, problems or field_problems(exc.errors())) from None


def _named(problem: dict[str, str], command: type[BaseModel]) -> dict[str, str]:
    """A cross-field problem (`reason: required to reject`) names its field: the command's check says which first."""
    name, said, why = problem["reason"].partition(": ")
    if problem["field"] == "<request>" and said and name in command.model_fields:
        return {**problem, "field": name, "reason": why}
    return problem


def unknown_case(transfer_id: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"no transfer case {transfer_id}")


def involved(operator: OperatorClaims, case: TransferCase) -> bool:
    """The operator's jurisdiction holds one of the case's parties (a school, or a bureau above one of them)."""
    app = case.application
    return operator.covers(app.sending.code) or operator.covers(app.receiving.code)


async def case_for(
    request: Request, transfer_id: str, operator: OperatorClaims, *, deciding: bool = False
) -> TransferCase:
    """The case an operator asks about, checked before anything about it is said (R50): an operator outside every
    party's jurisdiction hears exactly what a missing case answers, never its state nor that it exists. `deciding`:
    only who may act is asked, and a case's parties never change, so the case as this replica last decided on it
    answers without a read (the decision itself is checked against the store when it is appended)."""
    service = service_of(request)
    case = await (service.current(transfer_id) if deciding else service.load(transfer_id))
    if case is None or not involved(operator, case):
        raise unknown_case(transfer_id)
    return case


def case_view(case: TransferCase, request: Request) -> dict[str, Any]:
    """The case as lists show it, its schools named from the province's directory (null where it has no name)."""
    names: Mapping[str, str] = request.app.state.school_names
    app = case.application
    return inbox.summary(case) | {"sending_school_name": names.get(app.sending.code),
                                  "receiving_school_name": names.get(app.receiving.code)}  # fmt: skip


def _state(case: TransferCase | None) -> dict[str, Any] | None:
    if case is None:
        return None
    stage = case.open_stage
    return {
        "phase": case.phase.value,
        "step": case.step,
        "open_stage": stage.stage.value if stage else None,
        "stages": {s.value: st.status.value for s, st in case.stages.items()},
        "offline": case.offline.phase.value,
    }


async def refused(request: Request, exc: Exception) -> JSONResponse:
    """403 outside the jurisdiction; 422 naming the field for bad input; 409 naming the case's state otherwise."""
    assert isinstance(exc, CaseRefused)
    error = exc.error
    body: dict[str, Any] = {"rule": error.rule, "reason": error.reason}
    if isinstance(error, OutsideJurisdiction):
        return JSONResponse({"detail": f"{error.rule}: {error.reason}", **body}, status.HTTP_403_FORBIDDEN)
    if isinstance(error, Refused) and error.field:
        field = error.field
        if request.method == "POST" and request.url.path.rstrip("/").endswith("/transfers"):
            top = field.split(".", 1)[0]  # "term.semester" is a field of the application's term
            field = f"application.{field}" if top in TransferApplication.model_fields else field
        problem = {"field": field, "reason": f"{error.rule}: {error.reason}", "in": "body"}
        return JSONResponse({"detail": [problem], **body}, 422)
    conflict = {"detail": f"{error.rule}: {error.reason}", **body, "state": _state(exc.case)}
    return JSONResponse(conflict, status.HTTP_409_CONFLICT)

"""Lifecycle and information changes (R10-R13, R40-R46): school requests, verifier reviews."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel, ConfigDict, Field

from xueji_contracts.messages.status import StatusState
from xueji_kit.idempotency import IdempotencyKey
from xueji_kit.security import Operator
from xueji_registry.api.commits import as_committed, commit_of
from xueji_registry.api.common import http_error, service_of, unknown_student
from xueji_registry.domain import (
    ChangeDetails,
    CompleteStatusFile,
    EndAbsence,
    EvidenceRef,
    Graduate,
    OutsideJurisdiction,
    RecordAbsence,
    RecordException,
    RecordFileHandover,
    Refused,
    RegistryError,
    RequestChange,
    ReviewChange,
    StudentStatus,
    authorize,
)
from xueji_registry.domain.state import CertificateKind
from xueji_registry.numbers.certificates import execute_drawing
from xueji_registry.service import RegistryService

router = APIRouter(prefix="/v1", tags=["changes"])
OneCommand = RequestChange | CompleteStatusFile | RecordAbsence | EndAbsence | RecordFileHandover


class ChangeBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)  # spaces alone are no reason (R12)

    reason: str = Field(min_length=1, max_length=500)
    evidence: tuple[EvidenceRef, ...] = ()
    details: ChangeDetails


class ReviewBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)  # spaces alone are no reason (R12)

    approve: bool
    reason: str = Field(min_length=1, max_length=500)
    evidence: tuple[EvidenceRef, ...] = ()


async def _run(
    request: Request,
    student_id: str,
    command: OneCommand | ReviewChange | RecordException,
    key: str | None = None,
) -> dict[str, Any]:
    service = service_of(request)
    state = await service.load(student_id)
    # An outsider hears what a missing record answers, nothing more (R50). Not an outsider: the school's own
    # jurisdiction, or one the command itself is for (R08: the county of the school that issued the certificate).
    if state is None or not (
        command.operator.covers(state.school_code) or authorize(command.operator, command, state).allowed
    ):
        raise unknown_student(student_id)
    if isinstance(command, RequestChange) and isinstance(command.details, Graduate):
        _no_caller_sequence(command.details)
    try:
        saved = await execute_drawing(service, student_id, commit_of(command, student_id, key), command)
    except RegistryError as exc:
        review = command if isinstance(command, ReviewChange) and not isinstance(exc, OutsideJurisdiction) else None
        if review is not None and (decided := await _decided(service, student_id, review.change_id)):
            raise decided from None
        # A change's own fields (a suspension's term, say) sit under `details` in the request's body.
        top = ChangeBody.model_fields if isinstance(command, RequestChange) else ()
        raise http_error(exc, top=top, nested="details") from None
    # The record as this commit left it: a retry whose commit was stored before answers what the first run did.
    before, state = state, await as_committed(service, student_id, saved)
    pending = [p.model_dump(mode="json", include={"change_id", "phase"}) for p in state.pending]
    answer: dict[str, Any] = {
        "student_id": student_id,
        "version": saved.version,
        "state": state.state.value,
        "pending_changes": pending,
    }
    if isinstance(command, RecordException):  # the exception this commit recorded: the last one it left
        granted = state.exceptions[-1]
        answer |= {"exception_id": granted.exception_id, "rule": granted.rule, "clause": granted.clause.value}
    return answer | await _certificate_answer(service, student_id, command, before, state)


async def _certificate_answer(
    service: RegistryService,
    student_id: str,
    command: OneCommand | ReviewChange | RecordException,
    before: StudentStatus,
    after: StudentStatus,
) -> dict[str, Any]:
    """`certificate_number` when the command is a graduation that took effect: requested (a primary diploma takes
    effect at once), or approved (a junior or senior one the county verified); nothing otherwise.

    An approval sent again with its Idempotency-Key whose first answer was not kept runs again on its stored commit
    (`commit_of`): the change is no longer pending then, so the record before it cannot tell that it was a
    graduation; the graduation that settled the change, in the history, answers as the first run did."""
    if isinstance(command, ReviewChange) and command.approve:
        asked = before.pending_change(command.change_id)
        if asked is None:  # decided by this very commit before (a decision by another is refused, 409)
            return await _settled_graduation(service, student_id, command.change_id)
        graduates = isinstance(asked.details, Graduate)
    else:
        graduates = isinstance(command, RequestChange) and isinstance(command.details, Graduate)
    if graduates and after.state is StatusState.GRADUATED:
        return {"certificate_number": _graduation_certificate(after)}
    return {}


async def _settled_graduation(service: RegistryService, student_id: str, change_id: str) -> dict[str, Any]:
    """R08: the certificate number of the graduation that settled `change_id`, if a graduation did (one `_id`
    lookup per commit of the record: only for a retry)."""
    events = await service.events.events_of(student_id)
    settled = next((e for e in events if e.get("type") == "graduated" and e.get("change_id") == change_id), None)
    return {} if settled is None else {"certificate_number": settled.get("certificate_number")}


def _graduation_certificate(state: StudentStatus) -> str | None:
    """R08: the number the registry drew for the graduation certificate (None where the province's policy sets no
    layout), answered so that a client need not read the history for it."""
    issued = [c for c in state.certificates if c.kind is CertificateKind.GRADUATION]
    return issued[-1].number if issued else None


def _no_caller_sequence(details: Graduate) -> None:
    """R08: the registry draws a certificate's sequence from its series as the graduation takes effect. A caller that
    still sends one is refused (422 naming the field), not ignored: it would believe the number its own, and print a
    number the registry never gave (or gave another certificate)."""
    if details.certificate_sequence is not None:
        why = "the registry draws the certificate's sequence from its series; leave certificate_sequence out"
        refused = Refused("R08", why, field="certificate_sequence")
        raise http_error(refused, top=ChangeBody.model_fields, nested="details")


async def _decided(service: RegistryService, student_id: str, change_id: str) -> HTTPException | None:
    """409 naming who decided `change_id` and how, when it was decided before (a second clerk, a stale page, a double
    click without a key): the first decision stands (R12) and a second one is a conflict, not a missing change."""
    first = next((e for e in await service.events.events_of(student_id)
                  if e.get("change_id") == change_id and e.get("type") in FIRST_DECISIONS), None)  # fmt: skip
    if first is None:
        return None
    how = FIRST_DECISIONS[first["type"]]
    reason = f"change {change_id} was already {how} by {first['by']['operator_id']} at {first['at']}"
    return HTTPException(status.HTTP_409_CONFLICT, {"rule": "R12", "reason": reason, "field": "change_id"})


FIRST_DECISIONS = {"change_approved": "approved", "change_rejected": "rejected"}


@router.post("/students/{student_id}/changes/{change_id}/review", summary="The verifier approves or rejects")
async def review_change(
    student_id: str, change_id: str, body: ReviewBody, operator: Operator, request: Request, key: IdempotencyKey = None
) -> dict[str, Any]:
    command = ReviewChange(
        operator=operator, reason=body.reason, evidence=body.evidence, change_id=change_id, approve=body.approve
    )
    return await _run(request, student_id, command, key)


class ExceptionBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)  # spaces alone are no reason (R12)

    rule: str = Field(pattern=r"^R\d{2}$", description="R40 (suspension) or R08 (certificate reissue)")
    clause: str = Field(
        min_length=1, max_length=60, description="R40: graduation_semester or suspension_period; R08: second_reissue"
    )
    certificate_number: str | None = Field(default=None, min_length=1, description="R08: the lost certificate")
    reason: str = Field(min_length=1, max_length=500, description="the written reason")
    evidence: tuple[EvidenceRef, ...] = Field(min_length=1)


@router.post(
    "/students/{student_id}/exceptions",
    summary="RULES 'Exceptions' (R08, R40): the named bureau records an exception to a 'generally' default",
)
async def record_exception(
    student_id: str, body: ExceptionBody, operator: Operator, request: Request, key: IdempotencyKey = None
) -> dict[str, Any]:
    command = RecordException(
        operator=operator,
        reason=body.reason,
        evidence=body.evidence,
        rule=body.rule,
        clause=body.clause,
        certificate_number=body.certificate_number,
    )
    return await _run(request, student_id, command, key)


class StatusFileBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)  # spaces alone are no reason (R12)

    reason: str = Field(default="status file established", min_length=1, max_length=500)
    evidence: tuple[EvidenceRef, ...] = Field(min_length=1, description="the established file: kind status_file")


class AbsenceBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)  # spaces alone are no reason (R12)

    absent_since: date = Field(description="the first school day of unexcused absence")
    reason: str = Field(default="unexcused absence", min_length=1, max_length=500)
    evidence: tuple[EvidenceRef, ...] = ()


class ReturnBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)  # spaces alone are no reason (R12)

    returned_on: date
    reason: str = Field(default="returned to school", min_length=1, max_length=500)


class FileHandoverBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)  # spaces alone are no reason (R12)

    reason: str = Field(default="file handed over", min_length=1, max_length=500)
    evidence: tuple[EvidenceRef, ...] = Field(min_length=1, description="the hand-over record")


# The routes that only turn the request's body and the operator into the domain's command (the body's fields are the
# command's): path, route name, command, body, summary. In the order they were declared, so the OpenAPI document
# keeps its order.
ONE_COMMAND: list[tuple[str, str, type[OneCommand], type[BaseModel], str]] = [
    ("/changes", "request_change", RequestChange, ChangeBody, "Request a change (suspension, key info, deletion, ...)"),
    ("/status-file", "complete_status_file", CompleteStatusFile, StatusFileBody,
     "R02: the school records the established status file"),
    ("/absence", "record_absence", RecordAbsence, AbsenceBody, "R45: the school records an unexcused absence"),
    ("/absence/end", "end_absence", EndAbsence, ReturnBody, "R45: the absent student came back"),
    ("/file-handover", "record_file_handover", RecordFileHandover, FileHandoverBody,
     "R45: the county bureau handed a migrant dropout's file to the household-register county"),
]  # fmt: skip


def one_command_route(command: type[OneCommand], body: type[BaseModel]) -> Callable[..., Awaitable[dict[str, Any]]]:
    """The endpoint of one such route: its body's fields and the operator become `command`, which is decided."""

    async def run(
        student_id: str, payload: BaseModel, operator: Operator, request: Request, key: IdempotencyKey = None
    ) -> dict[str, Any]:
        return await _run(request, student_id, command(operator=operator, **dict(payload)), key)

    run.__annotations__["payload"] = body  # the body's own model, for validation and the OpenAPI document
    return run


for path, name, command, body, summary in ONE_COMMAND:
    router.post(f"/students/{{student_id}}{path}", name=name, summary=summary)(one_command_route(command, body))

"""Transfer cases over HTTP: apply (step 1), a case and its history, inboxes, dispute routing (R21, R50, R53)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, status

from xueji_contracts.auth import province_of
from xueji_contracts.calendar import local_date
from xueji_contracts.envelope import derive_id
from xueji_kit.idempotency import IdempotencyKey
from xueji_kit.security import Operator, require_jurisdiction
from xueji_kit.store import Document
from xueji_transfer.api.common import (
    TransferId,
    as_committed,
    build,
    case_for,
    case_view,
    commit_id,
    correlation,
    service_of,
    unknown_case,
)
from xueji_transfer.api.requests import ApplyRequest
from xueji_transfer.case_numbers import CaseNumbers
from xueji_transfer.domain import (
    ApplyForTransfer,
    TransferCase,
    TransferError,
    armed_timers,
    from_documents,
    replay,
    route_dispute,
)
from xueji_transfer.domain.record import check_record
from xueji_transfer.service import CaseRefused

router = APIRouter(prefix="/v1", tags=["transfers"])
Code = Annotated[str, Query(pattern=r"^\d{6}(\d{4})?$", description="school code or division code")]


def numbers_of(request: Request) -> CaseNumbers:
    numbers: CaseNumbers = request.app.state.case_numbers
    return numbers


async def number_of(request: Request, transfer_id: str, case: TransferCase | None) -> str | None:
    """The case's readable number. A case applied before numbers existed gets one when it is first read (its
    county, the year it was initiated): the claim's insert decides, so concurrent reads agree and a second read
    changes nothing; numbers stay unique in the province. A case another province owns is numbered there."""
    numbers = numbers_of(request)
    known = await numbers.of(transfer_id)
    if known is not None or case is None:
        return known
    commits = await service_of(request).history(transfer_id)
    at = commits[0]["events"][0]["at"] if commits else service_of(request).clock()  # when it was applied for
    applied = datetime.fromisoformat(at) if isinstance(at, str) else at
    applied = applied if applied.tzinfo else applied.replace(tzinfo=UTC)
    return await numbers.allocate(transfer_id, case.application.receiving.code, applied)


@router.post("/transfers", status_code=status.HTTP_201_CREATED, summary="Step 1: record a guardian's application")
async def apply(body: ApplyRequest, operator: Operator, request: Request, key: IdempotencyKey = None) -> dict[str, Any]:
    service = service_of(request)
    receiving = body.application.receiving.code
    if province_of(receiving) != service.province:
        problem = {"field": "application.receiving", "in": "body", "reason": "R34: the receiving province records it"}
        raise HTTPException(422, [problem])
    # A key is the caller's own (the token's subject): two clerks of one school never share a case through one.
    transfer_id = f"tr_{derive_id(operator.code, operator.sub, key).hex if key else uuid.uuid4().hex}"
    commit = commit_id(operator, "apply", key)
    # With a key, the case's first commit (the read a first run makes anyway): stored by this request's commit, this
    # is a retry whose first answer was lost, answered as that commit left the case, whatever changed since.
    first = await service.events.first(transfer_id) if key else None
    if first is not None and first.get("commit_id") == commit:
        return await _applied_before(request, transfer_id, commit, first)
    now = service.clock()
    applied_at = body.applied_at or now
    earliest = now - timedelta(days=service.settings.max_backdating_days)
    if not earliest <= applied_at <= now + timedelta(minutes=5):
        reason = f"between {earliest.date().isoformat()} and now: when the school received the application"
        raise HTTPException(422, [{"field": "applied_at", "reason": reason, "in": "body"}])
    exceptions = [await request.app.state.exceptions.load(e) for e in body.exception_ids]
    if None in exceptions:
        unknown = body.exception_ids[exceptions.index(None)]
        raise HTTPException(422, [{"field": "exception_ids", "reason": f"R27: no exception {unknown}", "in": "body"}])
    record = await request.app.state.records.find(body.application.student_id or "")
    try:
        application = check_record(body.application, record, local_date(applied_at, "applied_at"))
    except TransferError as error:
        raise CaseRefused(error, None) from error
    # Numbered before the case is recorded, so its events (and the dashboard) carry the number from the start; a
    # refused application leaves its number unused (numbers are unique, not gapless), a retry keeps its claim's.
    number = await numbers_of(request).allocate(transfer_id, receiving, applied_at, new=key is None)
    command = build(
        ApplyForTransfer, None, operator, transfer_id=transfer_id, application=application, exceptions=exceptions,
        case_number=number,
    )  # fmt: skip
    case = await service.execute(
        transfer_id, command, commit, at=applied_at, correlation_id=correlation(request), new=first is None
    )
    case = await as_committed(request, transfer_id, commit, case)  # a retry racing its first run answers as it did
    return case_view(case, request) | {"case_number": case.case_number or number}


async def _applied_before(request: Request, transfer_id: str, commit: str, first: Document) -> dict[str, Any]:
    """An application retried with its key after its first answer was lost (the process stopped after answering, the
    key's claim was not kept), its commit `first` stored: answered as that commit left the case, as the first answer
    was, not checked again against what changed since (the registry moved the student to the receiving school once
    the case completed, the backdating window passed); the case settled again, as a redelivery is."""
    service = service_of(request)
    await service.settle_again(transfer_id, commit, service.clock())
    case = replay(from_documents(first["events"]))
    assert case is not None  # an application's commit opens the case
    number = case.case_number or await numbers_of(request).of(transfer_id)
    return case_view(case, request) | {"case_number": number}


@router.get("/transfers/{transfer_id}", summary="A case, its full history (R12) and who handles a dispute (R53)")
async def detail(transfer_id: TransferId, operator: Operator, request: Request) -> dict[str, Any]:
    """By internal id or by case number (ZX-350602-2026-000123)."""
    service = service_of(request)
    transfer_id = await numbers_of(request).transfer_of(transfer_id) or transfer_id
    if await service.load(transfer_id) is None:
        return await _mirrored(transfer_id, operator, request)
    case = await case_for(request, transfer_id, operator)
    commits = await service.history(transfer_id)
    app = case.application
    history = [{"version": c["version"], "recorded_at": c["recorded_at"], **e} for c in commits for e in c["events"]]
    timers = [t.model_dump(mode="json") for t in armed_timers(case, service.calendars.rules)]
    complaints = service.calendars.policy.complaints
    disputes = route_dispute([app.sending.code, app.receiving.code], complaints=complaints).model_dump(mode="json")
    number = await number_of(request, transfer_id, case)
    return case_view(case, request) | {"case_number": number, "case": case.model_dump(mode="json"), "history": history,
                              "armed_timers": timers, "disputes_handled_by": disputes}  # fmt: skip


async def _mirrored(transfer_id: str, operator: Operator, request: Request) -> dict[str, Any]:
    """A case another province owns, as far as its stages addressed here were mirrored in."""
    mirror = request.app.state.mirror
    stages = await mirror.stages(transfer_id)
    if not any(operator.covers(s["jurisdiction"]) for s in stages.values()):
        raise unknown_case(transfer_id)  # missing, or outside: the same answer (R50)
    owner = next(iter(stages.values()))["owner"]
    return {"transfer_id": transfer_id, "owner_province": owner, "remote": True, "stages": stages,
            "history": await mirror.entries(transfer_id)}  # fmt: skip


@router.get("/inbox", summary="What waits on the operator's jurisdiction (or one under it): stages to decide, steps")
async def inbox(
    operator: Operator,
    request: Request,
    code: Code | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> dict[str, Any]:
    if code is not None:
        require_jurisdiction(operator, code)
    jurisdiction = code or operator.code
    service, mirror = service_of(request), request.app.state.mirror
    items = []
    for entry in await service.filings.filed_under(jurisdiction, limit):
        tid = entry["transfer_id"]
        todos = await (mirror.todos(tid) if entry.get("owner") else service.todos(tid))
        number = await numbers_of(request).of(tid)
        if number is None and not entry.get("owner"):
            number = await number_of(request, tid, await service.load(tid))
        items += [{**t, "todo_id": t.pop("_id"), "case_number": number} for t in todos if t["code"] == jurisdiction]
    items.sort(key=lambda t: ((t.get("open_stage") or {}).get("due_at") or "~", t["todo_id"]))
    return {"jurisdiction": jurisdiction, "items": items}


@router.get("/disputes/route", summary="Who handles a complaint across these parties, how to apply and its phone (R53)")
async def dispute_route(
    operator: Operator,
    request: Request,
    codes: Annotated[list[Code], Query(min_length=1)],
    about_school_act: Annotated[
        bool, Query(description="a complaint about the school's own act: the county handles it, not the school")
    ] = False,
) -> dict[str, Any]:
    complaints = service_of(request).calendars.policy.complaints
    try:
        return route_dispute(codes, about_school_act=about_school_act, complaints=complaints).model_dump(mode="json")
    except ValueError as exc:
        raise HTTPException(422, [{"field": "codes", "reason": str(exc), "in": "query"}]) from None

"""The steps of a case over HTTP (R21-R23, R30, R32, R33); the domain decides who may act."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse

from xueji_contracts.auth import OperatorClaims
from xueji_contracts.messages.transfer import Stage
from xueji_kit.idempotency import IdempotencyKey
from xueji_kit.security import Operator
from xueji_transfer.api import requests as r
from xueji_transfer.api.common import (
    TransferId,
    build,
    case_for,
    case_view,
    commit_id,
    correlation,
    involved,
    service_of,
    unknown_case,
)
from xueji_transfer.domain import (
    AcceptOffline,
    AddMaterials,
    Command,
    DecideStage,
    DeclareSystemFailure,
    ExamineConditions,
    NotifyStudentToReport,
    RecordOfflineConsent,
    RecordPaperFileSent,
    RecordStudentReported,
    RollBackTransfer,
)

router = APIRouter(prefix="/v1/transfers/{transfer_id}", tags=["transfer steps"])


async def _run(
    request: Request, transfer_id: str, command: Command, operator: OperatorClaims, key: str | None
) -> dict[str, Any]:
    await case_for(request, transfer_id, operator, deciding=True)  # who may act, before anything about the case is said
    service = service_of(request)
    commit = commit_id(operator, f"{transfer_id}:{command.type}", key)
    case = await service.execute(transfer_id, command, commit, correlation_id=correlation(request))
    return case_view(case)


@router.post("/materials", summary="More materials (R30); after a return this reopens step 3")
async def add_materials(
    transfer_id: TransferId,
    payload: r.MaterialsRequest,
    operator: Operator,
    request: Request,
    key: IdempotencyKey = None,
) -> dict[str, Any]:
    return await _run(request, transfer_id, build(AddMaterials, payload, operator), operator, key)


@router.post("/examination", summary="Step 2: conditions and vacancy examined")
async def examine(
    transfer_id: TransferId,
    payload: r.ExaminationRequest,
    operator: Operator,
    request: Request,
    key: IdempotencyKey = None,
) -> dict[str, Any]:
    return await _run(request, transfer_id, build(ExamineConditions, payload, operator), operator, key)


@router.post("/notify-to-report", summary="Step 7: with the three consents, tell the student to report")
async def notify_to_report(
    transfer_id: TransferId, operator: Operator, request: Request, key: IdempotencyKey = None
) -> dict[str, Any]:
    return await _run(request, transfer_id, build(NotifyStudentToReport, None, operator), operator, key)


@router.post("/report", summary="Step 8: the student reported; the electronic file is pulled")
async def report(
    transfer_id: TransferId, payload: r.ReportRequest, operator: Operator, request: Request, key: IdempotencyKey = None
) -> dict[str, Any]:
    return await _run(request, transfer_id, build(RecordStudentReported, payload, operator), operator, key)


@router.post("/paper-file", summary="The sending school sent the paper file (R32)")
async def paper_file_sent(
    transfer_id: TransferId,
    payload: r.PaperFileRequest,
    operator: Operator,
    request: Request,
    key: IdempotencyKey = None,
) -> dict[str, Any]:
    return await _run(request, transfer_id, build(RecordPaperFileSent, payload, operator), operator, key)


@router.post("/rollback", summary="Roll back a graduate's mistaken transfer (R33)")
async def roll_back(
    transfer_id: TransferId,
    payload: r.RollbackRequest,
    operator: Operator,
    request: Request,
    key: IdempotencyKey = None,
) -> dict[str, Any]:
    return await _run(request, transfer_id, build(RollBackTransfer, payload, operator), operator, key)


@router.post("/offline/system-failure", summary="Open the offline path on a declared failure (R23)")
async def declare_system_failure(
    transfer_id: TransferId,
    payload: r.SystemFailureRequest,
    operator: Operator,
    request: Request,
    key: IdempotencyKey = None,
) -> dict[str, Any]:
    return await _run(request, transfer_id, build(DeclareSystemFailure, payload, operator), operator, key)


@router.post("/offline/consent", summary="The receiving bureau's signed paper consent (R23)")
async def offline_consent(
    transfer_id: TransferId,
    payload: r.OfflineConsentRequest,
    operator: Operator,
    request: Request,
    key: IdempotencyKey = None,
) -> dict[str, Any]:
    return await _run(request, transfer_id, build(RecordOfflineConsent, payload, operator), operator, key)


@router.post("/offline/acceptance", summary="The receiving school accepts offline (R23)")
async def offline_acceptance(
    transfer_id: TransferId,
    payload: r.OfflineAcceptanceRequest,
    operator: Operator,
    request: Request,
    key: IdempotencyKey = None,
) -> dict[str, Any]:
    return await _run(request, transfer_id, build(AcceptOffline, payload, operator), operator, key)


@router.post("/stages/{stage}/decision", summary="Steps 3-6: approve, reject or return a stage (R21, R50)")
async def decide(
    transfer_id: TransferId,
    stage: Stage,
    payload: r.DecisionRequest,
    operator: Operator,
    request: Request,
    key: IdempotencyKey = None,
) -> Any:
    command = build(DecideStage, payload, operator, stage=stage)
    service, mirror = service_of(request), request.app.state.mirror
    case = await service.current(transfer_id)
    if case is not None and not involved(operator, case):
        raise unknown_case(transfer_id)
    if case is None:
        # Another province owns the case; its party here decides, the owner records it (R34).
        stages = await mirror.stages(transfer_id)
        if not any(operator.covers(s["jurisdiction"]) for s in stages.values()):
            raise unknown_case(transfer_id)
        commit = commit_id(operator, f"{transfer_id}:decide:{stage.value}", key)
        owner = await mirror.forward_decision(transfer_id, command, commit, service.clock())
        answer = {"transfer_id": transfer_id, "stage": stage.value, "forwarded_to_province": owner}
        return JSONResponse(answer, status.HTTP_202_ACCEPTED)
    return await _run(request, transfer_id, command, operator, key)

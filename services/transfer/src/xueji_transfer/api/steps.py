"""The steps of a case over HTTP (R21-R23, R30, R32, R33); the domain decides who may act."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from xueji_contracts.auth import OperatorClaims
from xueji_contracts.messages.transfer import Decision, Stage
from xueji_kit.idempotency import IdempotencyKey
from xueji_kit.security import Operator
from xueji_transfer.api import common
from xueji_transfer.api import requests as r
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
from xueji_transfer.service import ASKS_THE_RECORD

router = APIRouter(prefix="/v1/transfers/{transfer_id}", tags=["transfer steps"])


async def _run(
    request: Request, transfer_id: str, command: Command, operator: OperatorClaims, key: str | None
) -> dict[str, Any]:
    await common.case_for(
        request, transfer_id, operator, deciding=True
    )  # who may act, before anything about the case is said
    service = common.service_of(request)
    commit = common.commit_id(operator, f"{transfer_id}:{command.type}", key)
    case = await service.execute(transfer_id, command, commit, correlation_id=common.correlation(request))
    return common.case_view(await common.as_committed(request, transfer_id, commit, case), request)


# The steps whose route only turns the request into the domain's command: path, route name, command, request body
# (None: the route takes no body), summary.
STEPS: list[tuple[str, str, type[Command], type[BaseModel] | None, str]] = [
    ("/materials", "add_materials", AddMaterials, r.MaterialsRequest,
     "More materials (R30); after a return this reopens step 3"),
    ("/examination", "examine", ExamineConditions, r.ExaminationRequest, "Step 2: conditions and vacancy examined"),
    ("/notify-to-report", "notify_to_report", NotifyStudentToReport, None,
     "Step 7: with the three consents, tell the student to report"),
    ("/report", "report", RecordStudentReported, r.ReportRequest,
     "Step 8: the student reported; the electronic file is pulled"),
    ("/paper-file", "paper_file_sent", RecordPaperFileSent, r.PaperFileRequest,
     "The sending school sent the paper file (R32)"),
    ("/rollback", "roll_back", RollBackTransfer, r.RollbackRequest, "Roll back a graduate's mistaken transfer (R33)"),
    ("/offline/system-failure", "declare_system_failure", DeclareSystemFailure, r.SystemFailureRequest,
     "Open the offline path on a declared failure (R23)"),
    ("/offline/consent", "offline_consent", RecordOfflineConsent, r.OfflineConsentRequest,
     "The receiving bureau's signed paper consent (R23)"),
    ("/offline/acceptance", "offline_acceptance", AcceptOffline, r.OfflineAcceptanceRequest,
     "The receiving school accepts offline (R23)"),
]  # fmt: skip


def step_route(command: type[Command], body: type[BaseModel] | None) -> Callable[..., Awaitable[dict[str, Any]]]:
    """The endpoint of one step: its request `body` (or none) and the operator become `command`, which is decided."""
    if body is None:

        async def without_body(
            transfer_id: common.TransferId, operator: Operator, request: Request, key: IdempotencyKey = None
        ) -> dict[str, Any]:
            return await _run(request, transfer_id, common.build(command, None, operator), operator, key)

        return without_body

    async def with_body(
        transfer_id: common.TransferId,
        payload: BaseModel,
        operator: Operator,
        request: Request,
        key: IdempotencyKey = None,
    ) -> dict[str, Any]:
        return await _run(request, transfer_id, common.build(command, payload, operator), operator, key)

    with_body.__annotations__["payload"] = body  # the body's own model, for validation and the OpenAPI document
    return with_body


for path, name, command, body, summary in STEPS:
    router.post(path, name=name, summary=summary)(step_route(command, body))


@router.post("/stages/{stage}/decision", summary="Steps 3-6: approve, reject or return a stage (R21, R50)")
async def decide(
    transfer_id: common.TransferId,
    stage: Stage,
    payload: r.DecisionRequest,
    operator: Operator,
    request: Request,
    key: IdempotencyKey = None,
) -> Any:
    command = common.build(DecideStage, payload, operator, stage=stage)
    service, mirror = common.service_of(request), request.app.state.mirror
    case = await service.current(transfer_id)
    if case is not None and not common.involved(operator, case):
        raise common.unknown_case(transfer_id)
    if case is None:
        # Another province owns the case; its party here decides, the owner records it (R34).
        stages = await mirror.stages(transfer_id)
        if not any(operator.covers(s["jurisdiction"]) for s in stages.values()):
            raise common.unknown_case(transfer_id)
        student = stages.get(stage.value, {}).get("case", {}).get("student_id")
        if student and command.decision is Decision.APPROVE and stage in ASKS_THE_RECORD:
            command = command.model_copy(update={"record": await request.app.state.records.find(student)})
        commit = common.commit_id(operator, f"{transfer_id}:decide:{stage.value}", key)
        owner = await mirror.forward_decision(transfer_id, command, commit, service.clock())
        answer = {"transfer_id": transfer_id, "stage": stage.value, "forwarded_to_province": owner}
        return JSONResponse(answer, status.HTTP_202_ACCEPTED)
    return await _run(request, transfer_id, command, operator, key)

"""transfer.case.v1 -> the student moves: completed / offline_accepted to the receiving school, rolled_back home."""

from __future__ import annotations

from faststream import Context

from xueji_contracts.auth import OperatorClaims, Role
from xueji_contracts.envelope import Envelope, derive_id
from xueji_contracts.messages.transfer import CaseOutcome, TransferCaseChanged
from xueji_kit.runtime import ServiceRuntime
from xueji_registry import records
from xueji_registry.domain import RecordTransferIn

MOVES = {CaseOutcome.COMPLETED, CaseOutcome.OFFLINE_ACCEPTED, CaseOutcome.ROLLED_BACK}


async def on_transfer_case(
    message: Envelope[TransferCaseChanged], runtime: ServiceRuntime = Context("runtime")
) -> None:
    case = message.payload
    if case.outcome not in MOVES:
        return
    back = case.outcome is CaseOutcome.ROLLED_BACK
    school = case.sending_school if back else case.receiving_school
    # Offline acceptance and the later system completion are one move: the same transfer id (R23).
    transfer_id = f"{case.transfer_id}:rollback" if back else case.transfer_id
    command = RecordTransferIn(
        operator=OperatorClaims(sub="transfer-service", role=Role.COUNTY, code=school[:6]),
        reason=case.reason or f"transfer {case.transfer_id} {case.outcome.value}",
        transfer_id=transfer_id,
        receiving_school=school,
    )
    commit_id = str(derive_id(message.message_id, "transfer"))
    await records.execute(runtime, case.student_id, commit_id, command, correlation_id=message.correlation_id)

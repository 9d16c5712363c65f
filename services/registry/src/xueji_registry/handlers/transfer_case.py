"""transfer.case.v1 -> the student moves: completed / offline_accepted to the receiving school, rolled_back home.

Between provinces (R34) each side does its half: the sending province records the student as transferred out
when the case completes and sends the electronic file (interprovince.file.v1); the receiving province starts the
record from that file (handlers/status_file.py), or moves a returning student whose record it still keeps. An offline
acceptance (R23) starts it at once from the paper form the case carries; the file reconciles it later.
"""

from __future__ import annotations

import structlog
from faststream import Context

from xueji_contracts.auth import OperatorClaims, Role, province_of
from xueji_contracts.division import Division
from xueji_contracts.envelope import Envelope, derive_id
from xueji_contracts.messages.transfer import CaseOutcome, TransferCaseChanged
from xueji_kit.store import Outgoing
from xueji_registry.domain import RecordTransferIn, RecordTransferOut, StudentStatus
from xueji_registry.service import RegistryService
from xueji_registry.status_files import file_message, file_of, paper_arrival

MOVES = {CaseOutcome.COMPLETED, CaseOutcome.OFFLINE_ACCEPTED, CaseOutcome.ROLLED_BACK}
log = structlog.get_logger("registry.transfer_case")


def _service(school: str) -> OperatorClaims:
    return OperatorClaims(sub="transfer-service", role=Role.COUNTY, code=Division.parse(school).county.code)


async def on_transfer_case(
    message: Envelope[TransferCaseChanged], service: RegistryService = Context("registry")
) -> None:
    case = message.payload
    if case.outcome not in MOVES:
        return
    here = service.province
    back = case.outcome is CaseOutcome.ROLLED_BACK
    school = case.sending_school if back else case.receiving_school
    reason = case.reason or f"transfer {case.transfer_id} {case.outcome.value}"
    commit_id = str(derive_id(message.message_id, "transfer"))
    if province_of(school) != here:
        # The student leaves this province. Only a completed case: an offline acceptance there has not had
        # this side's verifications yet, and the record here stays until the system path completes (R23).
        if case.outcome is CaseOutcome.COMPLETED and province_of(case.sending_school) == here:
            await _transfer_out(service, message, reason, commit_id)
        return
    # Offline acceptance and the later system completion are one move: the same transfer id (R23).
    transfer_id = f"{case.transfer_id}:rollback" if back else case.transfer_id
    arrival = None
    if province_of(case.sending_school) != here and not back and await service.load(case.student_id) is None:
        if case.outcome is not CaseOutcome.OFFLINE_ACCEPTED or case.paper_record is None:
            log.info("awaiting_status_file", transfer_id=case.transfer_id)  # the file starts the record here
            return
        arrival = paper_arrival(case.student_id, case.paper_record)  # enrolled at once, from the paper form (R23)
    command = RecordTransferIn(
        operator=_service(school), reason=reason, transfer_id=transfer_id, receiving_school=school, arrival=arrival
    )
    await service.execute(case.student_id, commit_id, command, correlation_id=message.correlation_id)


async def _transfer_out(
    service: RegistryService, message: Envelope[TransferCaseChanged], reason: str, commit_id: str
) -> None:
    case = message.payload

    def send_file(after: StudentStatus) -> list[Outgoing]:
        return [file_message(file_of(after, case.transfer_id, case.receiving_school), message.correlation_id)]

    command = RecordTransferOut(
        operator=_service(case.sending_school),
        reason=reason,
        transfer_id=case.transfer_id,
        receiving_school=case.receiving_school,
    )
    await service.execute(case.student_id, commit_id, command, correlation_id=message.correlation_id, extra=send_file)

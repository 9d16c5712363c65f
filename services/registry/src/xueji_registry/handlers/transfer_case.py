"""transfer.case.v1 -> the student moves: completed / offline_accepted to the receiving school, rolled_back home, and
back home when a case the receiving school accepted offline is rejected (R23: the system's record prevails).

Between provinces (R34) each side does its half: the sending province records the student as transferred out
when the case completes and sends the electronic file (interprovince.file.v1); the receiving province starts the
record from that file (handlers/status_file.py), or moves a returning student whose record it still keeps. An offline
acceptance (R23) starts it at once from the paper form the case carries; the file reconciles it later.

A graduate's progression (毕业后升学) is recorded like the receiving school's freshman registration (R07: the next
segment, its supplementary number asked for); its rollback (R33) restores the graduate at the graduating school.
"""

from __future__ import annotations

import structlog
from faststream import Context

from xueji_contracts.auth import OperatorClaims, Role, province_of
from xueji_contracts.calendar.deadlines import local_date
from xueji_contracts.division import Division
from xueji_contracts.envelope import Envelope, derive_id
from xueji_contracts.messages.transfer import CaseKind, CaseOutcome, TransferCaseChanged
from xueji_kit.outbox_entries import Outgoing
from xueji_registry.domain import RecordRollback, RecordTransferIn, RecordTransferOut, StudentStatus
from xueji_registry.domain.periods import school_year_of
from xueji_registry.numbers.supplementary import request_supplementary
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
    if case.outcome is CaseOutcome.REJECTED and case.offline_accepted:
        await _undo_offline(service, message, str(derive_id(message.message_id, "transfer")))
        return
    if case.outcome not in MOVES:
        return
    here = service.province
    back = case.outcome is CaseOutcome.ROLLED_BACK
    school = case.sending_school if back else case.receiving_school
    reason = case.reason or f"transfer {case.transfer_id} {case.outcome.value}"
    commit_id = str(derive_id(message.message_id, "transfer"))
    progression = case.kind is CaseKind.PROGRESSION
    if back and progression:
        await _roll_back(service, message, reason, commit_id)
        return
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
    grade = case.target_grade if progression and not back else None
    origin = case.receiving_school if back else case.sending_school  # still the record's school, or nothing moves
    command = RecordTransferIn(
        operator=_service(school),
        reason=reason,
        transfer_id=transfer_id,
        receiving_school=school,
        arrival=arrival,
        progression_grade=grade,
        from_school=origin if province_of(origin) == here else None,
    )
    # R07: the school a graduate moves on to gives the new segment's number, and the receiving school that of a
    # student transferring into the province for the first time (one who studied the segment here kept it).
    arriving = province_of(case.sending_school) != here and not back
    extra = request_supplementary(service, school_year_of(local_date(case.at)), message.correlation_id)
    await service.execute(
        case.student_id, commit_id, command, correlation_id=message.correlation_id,
        extra=extra if grade or arriving else None,
    )  # fmt: skip


async def _undo_offline(service: RegistryService, message: Envelope[TransferCaseChanged], commit_id: str) -> None:
    """R23: the receiving school accepted the student offline, then the system path was rejected. The system's record
    prevails: the student goes back to the sending school. Within this province only; between provinces the
    receiving side's copy started from the paper form, and the sending side never moved the student."""
    case = message.payload
    here = service.province
    if province_of(case.sending_school) != here or province_of(case.receiving_school) != here:
        log.warning("offline_acceptance_of_a_rejected_transfer_left_to_operators", transfer_id=case.transfer_id)
        return
    state = await service.load(case.student_id)
    if state is None or state.school_code != case.receiving_school:
        log.info("offline_acceptance_not_recorded_here", transfer_id=case.transfer_id)  # nothing moved: nothing back
        return
    command = RecordTransferIn(
        operator=_service(case.sending_school),
        reason=f"transfer {case.transfer_id} rejected after an offline acceptance: {case.reason or 'rejected'} "
        "(R23: the system's record prevails)",
        transfer_id=f"{case.transfer_id}:offline-undone",
        receiving_school=case.sending_school,
    )
    await service.execute(case.student_id, commit_id, command, correlation_id=message.correlation_id)


async def _roll_back(
    service: RegistryService, message: Envelope[TransferCaseChanged], reason: str, commit_id: str
) -> None:
    """R33: the record here (at the school the graduate went to, or the graduating school's when the graduate left
    the province) goes back to the graduating school; a receiving province's copy ends."""
    case = message.payload
    record_school = (
        case.receiving_school if province_of(case.receiving_school) == service.province else case.sending_school
    )
    if province_of(record_school) != service.province:
        return
    if await service.load(case.student_id) is None:
        log.info("rollback_without_record", transfer_id=case.transfer_id)  # the file never arrived here
        return
    command = RecordRollback(
        operator=_service(record_school),
        reason=reason,
        transfer_id=case.transfer_id,
        back_to_school=case.sending_school,
    )
    await service.execute(case.student_id, commit_id, command, correlation_id=message.correlation_id)


async def _transfer_out(
    service: RegistryService, message: Envelope[TransferCaseChanged], reason: str, commit_id: str
) -> None:
    case = message.payload

    progression = case.kind is CaseKind.PROGRESSION

    def send_file(after: StudentStatus) -> list[Outgoing]:
        grade = case.target_grade if progression else None
        file = file_of(after, case.transfer_id, case.receiving_school, progression_grade=grade)
        return [file_message(file, message.correlation_id)]

    command = RecordTransferOut(
        operator=_service(case.sending_school),
        reason=reason,
        transfer_id=case.transfer_id,
        receiving_school=case.receiving_school,
        progression=progression,
        from_school=case.sending_school,
    )
    await service.execute(case.student_id, commit_id, command, correlation_id=message.correlation_id, extra=send_file)

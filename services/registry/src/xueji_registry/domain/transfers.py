"""Transfer outcomes from the transfer service (R28): move between schools, leave or enter the province."""

from __future__ import annotations

from datetime import datetime

from xueji_contracts.messages.status import StatusState
from xueji_registry.domain.commands import RecordTransferIn, RecordTransferOut
from xueji_registry.domain.errors import IllegalTransition, Refused, UnknownRecord
from xueji_registry.domain.event_base import Actor, Moved
from xueji_registry.domain.events import RegistryEvent
from xueji_registry.domain.numbers import kind_of
from xueji_registry.domain.state import StudentStatus
from xueji_registry.domain.status_events import TransferredIn, TransferredOut
from xueji_registry.domain.transitions import TRANSFERABLE


def _eligible(state: StudentStatus, action: str) -> None:
    if state.state is StatusState.SUSPENDED:
        raise IllegalTransition("R28", action, state.state, detail="a suspended student first resumes at the school")
    if state.state not in TRANSFERABLE:
        raise IllegalTransition("R28", action, state.state)


def _moved(
    command: RecordTransferIn | RecordTransferOut, student_id: str, now: datetime, before: StatusState | None
) -> Moved:
    to_state = StatusState.TRANSFERRED if isinstance(command, RecordTransferOut) else StatusState.ENROLLED
    return Moved(
        student_id=student_id,
        at=now,
        by=Actor.of(command.operator),
        reason=command.reason,
        evidence=command.evidence,
        change_id=None,
        from_state=before,
        to_state=to_state,
    )


def transfer_out(command: RecordTransferOut, state: StudentStatus, now: datetime) -> list[RegistryEvent]:
    """To another province: the record here ends as `transferred` and stays as history."""
    if command.transfer_id in state.transfers:
        return []
    _eligible(state, "transfer out")
    if command.receiving_school[:2] == state.school_code[:2]:
        raise Refused("R28", "a transfer inside the province is recorded as a transfer in", field="receiving_school")
    moved = _moved(command, state.student_id, now, state.state)
    return [TransferredOut(**moved, transfer_id=command.transfer_id, receiving_school=command.receiving_school)]


def transfer_in(command: RecordTransferIn, state: StudentStatus | None, now: datetime) -> list[RegistryEvent]:
    """Into `receiving_school`: the student is enrolled there, keeping the numbers (and supplementary number)."""
    if state is None:
        arrival = command.arrival
        if arrival is None:
            raise UnknownRecord("R28", "no record here: a first arrival in the province carries the student's record")
        kind_of(arrival.status_number)
        moved = _moved(command, arrival.student_id, now, None)
        return [
            TransferredIn(**moved, transfer_id=command.transfer_id, to_school=command.receiving_school, arrival=arrival)
        ]
    if command.transfer_id in state.transfers:
        return []
    # A returning student's record is the one kept here; the sending province's copy does not replace it.
    if state.state is not StatusState.TRANSFERRED:
        _eligible(state, "transfer in")
        if command.receiving_school == state.school_code:
            raise Refused("R28", "the student already studies at that school", field="receiving_school")
    moved = _moved(command, state.student_id, now, state.state)
    return [
        TransferredIn(
            **moved, transfer_id=command.transfer_id, from_school=state.school_code, to_school=command.receiving_school
        )
    ]

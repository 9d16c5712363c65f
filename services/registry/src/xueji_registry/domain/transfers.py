"""Transfer outcomes from the transfer service (R28): move between schools, leave or enter the province."""

from __future__ import annotations

from datetime import date, datetime

from xueji_contracts.auth import province_of
from xueji_contracts.calendar.deadlines import local_date
from xueji_contracts.messages.status import StatusState
from xueji_registry.domain import progression
from xueji_registry.domain.commands import RecordTransferIn, RecordTransferOut
from xueji_registry.domain.errors import IllegalTransition, Refused, UnknownRecord
from xueji_registry.domain.event_base import Moved, recorded
from xueji_registry.domain.events import RegistryEvent
from xueji_registry.domain.numbers import kind_of
from xueji_registry.domain.rules import RegistryRules
from xueji_registry.domain.state import StudentStatus
from xueji_registry.domain.status_events import (
    Arrival,
    ArrivalDifference,
    ArrivalReconciled,
    TransferredIn,
    TransferredOut,
)
from xueji_registry.domain.transitions import TRANSFERABLE


def _eligible(state: StudentStatus, action: str, *, moving_on: bool = False) -> None:
    """R28: who may transfer; a graduate (or completer) only moves on by a progression (003 Q9, Q13)."""
    if moving_on and state.state in progression.MAY_MOVE_ON:
        return
    if state.state is StatusState.SUSPENDED:
        raise IllegalTransition("R28", action, state.state, detail="a suspended student first resumes at the school")
    if state.state not in TRANSFERABLE:
        raise IllegalTransition("R28", action, state.state)


def _moved(
    command: RecordTransferIn | RecordTransferOut, student_id: str, now: datetime, before: StatusState | None
) -> Moved:
    to_state = StatusState.TRANSFERRED if isinstance(command, RecordTransferOut) else StatusState.ENROLLED
    return Moved(
        **recorded(command, student_id, now),
        change_id=None,
        from_state=before,
        to_state=to_state,
    )


def transfer_out(command: RecordTransferOut, state: StudentStatus, now: datetime) -> list[RegistryEvent]:
    """To another province: the record here ends as `transferred` and stays as history."""
    if command.transfer_id in state.transfers:
        return []
    _eligible(state, "transfer out", moving_on=command.progression)
    _still_at(command, state)
    if province_of(command.receiving_school) == province_of(state.school_code):
        raise Refused("R28", "a transfer inside the province is recorded as a transfer in", field="receiving_school")
    moved = _moved(command, state.student_id, now, state.state)
    return [
        TransferredOut(
            **moved,
            transfer_id=command.transfer_id,
            receiving_school=command.receiving_school,
            progression=command.progression,
        )
    ]


def transfer_in(
    command: RecordTransferIn, state: StudentStatus | None, now: datetime, rules: RegistryRules
) -> list[RegistryEvent]:
    """Into `receiving_school`: the student is enrolled there, keeping the numbers (and supplementary number); a
    graduate's progression enrolls the student in the next segment there (R07)."""
    if state is None:
        arrival = command.arrival
        if arrival is None:
            raise UnknownRecord("R28", "no record here: a first arrival in the province carries the student's record")
        kind_of(arrival.status_number)
        if command.progression_grade is not None:
            arrival = _progressed_arrival(arrival, command.progression_grade, local_date(now, "now"), rules)
        moved = _moved(command, arrival.student_id, now, None)
        return [
            TransferredIn(**moved, transfer_id=command.transfer_id, to_school=command.receiving_school, arrival=arrival)
        ]
    if command.transfer_id in state.transfers:
        if state.paper_arrival == command.transfer_id and command.arrival and command.arrival.source == "status_file":
            system = command.arrival
            if command.progression_grade is not None:  # the file is the graduate's; the record here moved on (R07)
                system = _progressed_arrival(system, command.progression_grade, state.admitted_on, rules)
            return [_reconciled(command, system, state, now)]
        return []
    if state.state is not StatusState.TRANSFERRED:
        _still_at(command, state)
    if command.progression_grade is not None and state.state is not StatusState.TRANSFERRED:
        return progression.progress(command, state, now, rules)
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


def _still_at(command: RecordTransferIn | RecordTransferOut, state: StudentStatus) -> None:
    """A case moves the student from the school it was applied for at. When the record moved elsewhere since (another
    case completed first: a guardian may apply at two schools), this one is not applied: one record, one current
    school, and the first move stays (R21, R12)."""
    if command.from_school is not None and command.from_school != state.school_code:
        raise Refused(
            "R21",
            f"transfer {command.transfer_id} moves the student from {command.from_school}, but the record is at "
            f"{state.school_code} now: it moved elsewhere since the case was applied for",
            field="sending_school",
        )


def _progressed_arrival(arrival: Arrival, grade: int, admitted_on: date, rules: RegistryRules) -> Arrival:
    """A graduate from another province starts here as the receiving school's freshman of the next segment (R07)."""
    segment = progression.segment_of(grade, rules)
    if not progression.later(segment, arrival.segment):
        raise Refused(
            "R07", f"a {arrival.segment.value} graduate moves on to a later segment, not {segment.value}", field="grade"
        )
    return arrival.model_copy(
        update={
            "segment": segment,
            "grade": grade,
            "graduation_grade": rules.graduation_grades[segment],
            "admitted_on": admitted_on,
        }
    )


def _reconciled(command: RecordTransferIn, system: Arrival, state: StudentStatus, now: datetime) -> ArrivalReconciled:
    """R23: the record started from the paper form meets the electronic file; the file prevails."""
    paper = Arrival(
        student_id=state.student_id,
        identity=state.identity,
        basic=state.basic,
        status_number=state.status_number,
        segment=state.segment,
        grade=state.grade,
        graduation_grade=state.graduation_grade,
        admitted_on=state.admitted_on,
    )
    was, now_is = _flat(paper), _flat(system)
    differences = tuple(
        ArrivalDifference(field=name, paper=was.get(name), system=now_is.get(name))
        for name in sorted(set(was) | set(now_is))
        if was.get(name) != now_is.get(name)
    )
    return ArrivalReconciled(
        **recorded(command, state.student_id, now),
        transfer_id=command.transfer_id,
        differences=differences,
        arrival=system,
    )


def _flat(arrival: Arrival) -> dict[str, str | None]:
    fields = arrival.model_dump(mode="json", exclude={"student_id", "source", "identity", "basic"})
    fields |= arrival.identity.model_dump(mode="json") | arrival.basic.model_dump(mode="json")
    return {name: None if value is None else str(value) for name, value in fields.items()}

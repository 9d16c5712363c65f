"""R07: moving on to a later segment in the province. The school where the student registers as that segment's
freshman records it on the same record (one person, one number, R01) and gives the segment's supplementary number;
the earlier segment's number stays with the record.

A graduate's progression case (毕业后升学) completed in the transfer service is that registration, made by the
receiving school through the case; within 6 months of graduation the county status office may roll a mistaken one
back to the graduating school (R33, 003 Q13), which restores the graduate's record there."""

from __future__ import annotations

from datetime import date, datetime

from xueji_contracts.auth import province_of
from xueji_contracts.calendar.deadlines import local_date
from xueji_contracts.messages.status import StatusState
from xueji_registry.domain.commands import RecordRollback, RecordTransferIn, RegisterFreshman
from xueji_registry.domain.errors import IllegalTransition, Refused
from xueji_registry.domain.event_base import recorded
from xueji_registry.domain.events import RegistryEvent
from xueji_registry.domain.periods import Segment
from xueji_registry.domain.rules import RegistryRules
from xueji_registry.domain.state import StudentStatus
from xueji_registry.domain.status_apply import rollback_id
from xueji_registry.domain.status_events import FreshmanRegistered, ProgressionRolledBack, TransferredOut

_ORDER = (Segment.PRIMARY, Segment.JUNIOR, Segment.SENIOR)
# Who may move on: a graduate, or (to senior high) a junior student with a completion certificate (002 III.16).
MAY_MOVE_ON = frozenset({StatusState.GRADUATED, StatusState.COMPLETED})


def register_freshman(
    command: RegisterFreshman, state: StudentStatus, now: datetime, rules: RegistryRules
) -> list[RegistryEvent]:
    return [
        _freshman(
            command, state, now, rules, school_code=command.school_code, segment=command.segment,
            grade=command.grade, graduation_grade=command.graduation_grade, admitted_on=command.admitted_on,
            school_year=command.school_year,
        )
    ]  # fmt: skip


def progress(
    command: RecordTransferIn, state: StudentStatus, now: datetime, rules: RegistryRules
) -> list[RegistryEvent]:
    """A graduate's progression case completed: enrolled at the receiving school in the segment its grade is in,
    from the day it completed; a redelivered completion changes nothing."""
    if command.transfer_id in state.transfers:
        return []
    grade = command.progression_grade
    assert grade is not None  # transfers.transfer_in sends only a progression here
    return [
        _freshman(
            command, state, now, rules, school_code=command.receiving_school, segment=segment_of(grade, rules),
            grade=grade, graduation_grade=None, admitted_on=local_date(now, "now"), transfer_id=command.transfer_id,
        )
    ]  # fmt: skip


def segment_of(grade: int, rules: RegistryRules) -> Segment:
    """The segment a grade belongs to under the province's graduation grades (6/9/12 by default)."""
    return next((s for s in _ORDER if grade <= rules.graduation_grades[s]), Segment.SENIOR)


def later(segment: Segment, than: Segment) -> bool:
    return _ORDER.index(segment) > _ORDER.index(than)


def roll_back(command: RecordRollback, state: StudentStatus, now: datetime) -> list[RegistryEvent]:
    """R33: the record returns to the graduating school as it was before the case (graduated or completed there);
    a record this province started from a graduate of another province ends here, as one transferred out does."""
    if rollback_id(command.transfer_id) in state.transfers:
        return []
    origin = state.progressed_from
    if origin is None or origin.transfer_id != command.transfer_id:
        elsewhere = province_of(command.back_to_school) != province_of(state.school_code)
        if elsewhere and command.transfer_id in state.transfers:
            return [_ended_here(command, state, now)]
        raise Refused("R33", f"no progression of case {command.transfer_id} is recorded on this record")
    if origin.school_code != command.back_to_school:
        raise Refused("R33", f"the rollback returns the student to {origin.school_code}", field="back_to_school")
    return [
        ProgressionRolledBack(
            **recorded(command, state.student_id, now), from_state=state.state, to_state=origin.state,
            transfer_id=command.transfer_id, from_school=state.school_code, school_code=origin.school_code,
            segment=origin.segment, grade=origin.grade, graduation_grade=origin.graduation_grade,
            admitted_on=origin.admitted_on, school_year=origin.class_year,
        )
    ]  # fmt: skip


def _ended_here(command: RecordRollback, state: StudentStatus, now: datetime) -> TransferredOut:
    """The graduating province keeps the record (R33 restores it there); the copy started here stays as history."""
    return TransferredOut(
        **recorded(command, state.student_id, now), from_state=state.state, to_state=StatusState.TRANSFERRED,
        transfer_id=rollback_id(command.transfer_id), receiving_school=command.back_to_school,
    )  # fmt: skip


def _freshman(
    command: RegisterFreshman | RecordTransferIn,
    state: StudentStatus,
    now: datetime,
    rules: RegistryRules,
    *,
    school_code: str,
    segment: Segment,
    grade: int,
    graduation_grade: int | None,
    admitted_on: date,
    transfer_id: str | None = None,
    school_year: int | None = None,
) -> FreshmanRegistered:
    if state.state not in MAY_MOVE_ON:
        raise IllegalTransition(
            "R07", "register as a freshman", state.state, detail="the student first finishes the earlier segment"
        )
    if not later(segment, state.segment):
        raise Refused(
            "R07", f"a {state.segment.value} student moves on to a later segment, not {segment.value}", field="segment"
        )
    graduation_grade = graduation_grade or rules.graduation_grades[segment]
    if grade > graduation_grade:
        raise Refused("R07", f"grade {grade} is past the graduation grade {graduation_grade}", field="grade")
    return FreshmanRegistered(
        **recorded(command, state.student_id, now),
        from_state=state.state,
        to_state=StatusState.ENROLLED,
        school_code=school_code,
        previous_school=state.school_code,
        segment=segment,
        previous_segment=state.segment,
        grade=grade,
        graduation_grade=graduation_grade,
        admitted_on=admitted_on,
        transfer_id=transfer_id,
        school_year=school_year,
    )

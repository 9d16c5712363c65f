"""R07: moving on to a later segment in the province. The school where the student registers as that segment's
freshman records it on the same record (one person, one number, R01) and gives the segment's supplementary number;
the earlier segment's number stays with the record."""

from __future__ import annotations

from datetime import datetime

from xueji_contracts.messages.status import StatusState
from xueji_registry.domain.commands import RegisterFreshman
from xueji_registry.domain.errors import IllegalTransition, Refused
from xueji_registry.domain.event_base import Actor
from xueji_registry.domain.events import RegistryEvent
from xueji_registry.domain.periods import Segment
from xueji_registry.domain.rules import RegistryRules
from xueji_registry.domain.state import StudentStatus
from xueji_registry.domain.status_events import FreshmanRegistered

_ORDER = (Segment.PRIMARY, Segment.JUNIOR, Segment.SENIOR)
# Who may move on: a graduate, or (to senior high) a junior student with a completion certificate (002 III.16).
_MAY_MOVE_ON = frozenset({StatusState.GRADUATED, StatusState.COMPLETED})


def register_freshman(
    command: RegisterFreshman, state: StudentStatus, now: datetime, rules: RegistryRules
) -> list[RegistryEvent]:
    if state.state not in _MAY_MOVE_ON:
        raise IllegalTransition(
            "R07", "register as a freshman", state.state, detail="the student first finishes the earlier segment"
        )
    if _ORDER.index(command.segment) <= _ORDER.index(state.segment):
        raise Refused(
            "R07",
            f"a {state.segment.value} student moves on to a later segment, not {command.segment.value}",
            field="segment",
        )
    graduation_grade = command.graduation_grade or rules.graduation_grades[command.segment]
    if command.grade > graduation_grade:
        raise Refused("R07", f"grade {command.grade} is past the graduation grade {graduation_grade}", field="grade")
    return [
        FreshmanRegistered(
            student_id=state.student_id,
            at=now,
            by=Actor.of(command.operator),
            reason=command.reason,
            evidence=command.evidence,
            from_state=state.state,
            to_state=StatusState.ENROLLED,
            school_code=command.school_code,
            previous_school=state.school_code,
            segment=command.segment,
            previous_segment=state.segment,
            grade=command.grade,
            graduation_grade=graduation_grade,
            admitted_on=command.admitted_on,
        )
    ]

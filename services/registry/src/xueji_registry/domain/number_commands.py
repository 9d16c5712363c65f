"""Deciding on numbers: the G batch (R03), the supplementary number (R07), and the R05 consistency finding."""

from __future__ import annotations

from datetime import datetime

from xueji_contracts.messages.status import StatusState
from xueji_registry.domain.commands import AssignSupplementaryNumber, IssueFormalNumber
from xueji_registry.domain.errors import IllegalTransition, Refused
from xueji_registry.domain.event_base import Actor, CheckOutcome, Recorded
from xueji_registry.domain.events import RegistryEvent
from xueji_registry.domain.numbers import NumberKind, formal_number, kind_of
from xueji_registry.domain.record_events import NumberChangeCause, StatusNumberChanged, SupplementaryNumberAssigned
from xueji_registry.domain.rules import RegistryRules
from xueji_registry.domain.state import StudentStatus
from xueji_registry.domain.supplementary import supplementary_number

_NO_G = frozenset({StatusState.PENDING_REVIEW, StatusState.TRANSFERRED, StatusState.DECEASED})
_ON_ROLL = frozenset({StatusState.ENROLLED, StatusState.SUSPENDED, StatusState.ABROAD})


def _recorded(command: IssueFormalNumber | AssignSupplementaryNumber, state: StudentStatus, now: datetime) -> Recorded:
    by = Actor.of(command.operator)
    return Recorded(student_id=state.student_id, at=now, by=by, reason=command.reason, evidence=command.evidence)


def issue_formal_number(command: IssueFormalNumber, state: StudentStatus, now: datetime) -> list[RegistryEvent]:
    """R03: L -> "G" + ID number, only once the national duplicate check and the population register agree."""
    if state.state in _NO_G:
        raise IllegalTransition("R03", "issue a G number", state.state)
    kind = kind_of(state.status_number)
    if kind is NumberKind.FORMAL:
        raise Refused("R03", "the student already has a G number")
    if kind is NumberKind.NO_ID:
        raise Refused("R04", "a J student applies for a G number with the new ID number (formal_number change)")
    if state.identity.id_number is None:
        raise Refused("R03", "a G number needs the student's ID number", field="id_number")
    failed = [
        name
        for name, outcome in (
            ("national duplicate check", command.duplicate_check),
            ("population-register comparison", command.identity_comparison),
        )
        if outcome is not CheckOutcome.PASSED
    ]
    if failed:
        raise Refused("R03", f"a G number is issued only after both checks pass; not passed: {', '.join(failed)}")
    return [
        StatusNumberChanged(
            **_recorded(command, state, now),
            previous=state.status_number,
            number=formal_number(state.identity.id_number),
            cause=NumberChangeCause.FORMAL_ISSUED,
            duplicate_check=command.duplicate_check,
            identity_comparison=command.identity_comparison,
        )
    ]


def assign_supplementary_number(
    command: AssignSupplementaryNumber, state: StudentStatus, now: datetime, rules: RegistryRules
) -> list[RegistryEvent]:
    """R07: one supplementary number per segment while the student studies in the province."""
    if state.state not in _ON_ROLL:
        raise IllegalTransition("R07", "assign a supplementary number", state.state)
    existing = state.supplementary_numbers.get(state.segment)
    if existing is not None:
        raise Refused("R07", f"the student keeps {existing} while studying in the province", field="sequence")
    number = supplementary_number(state.segment, command.school_year, command.numbering, command.sequence, rules.layout)
    return [
        SupplementaryNumberAssigned(
            **_recorded(command, state, now), segment=state.segment, school_year=command.school_year, number=number
        )
    ]


def g_number_discrepancy(state: StudentStatus) -> str | None:
    """R05 for the semester audit (R51): why a G number needs a look, or None when it is consistent.

    A G number may differ from "G" + the ID number only because a recorded change altered the ID number, or because
    it was changed by an approved re-application (003 Q6); either is valid and needs no correction.
    """
    number, id_number = state.status_number, state.identity.id_number
    if not number.startswith(NumberKind.FORMAL) or id_number is None or number == NumberKind.FORMAL + id_number:
        return None
    if state.number_cause is NumberChangeCause.REAPPLIED:
        return None
    if any(number == NumberKind.FORMAL + former for former in state.previous_id_numbers):
        return None
    return "R05: the G number differs from G + ID number and no recorded change explains it"

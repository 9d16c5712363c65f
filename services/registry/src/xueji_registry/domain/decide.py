"""decide(command, state, now) -> events: the one entry point for every command; `handle` also applies them."""

from __future__ import annotations

from datetime import datetime

from xueji_contracts.calendar.deadlines import require_aware
from xueji_registry.domain import (
    absence,
    change_flow,
    creation,
    exception_commands,
    number_commands,
    progression,
    status_file,
    transfers,
)
from xueji_registry.domain import commands as c
from xueji_registry.domain.apply import apply
from xueji_registry.domain.authorization import authorize
from xueji_registry.domain.errors import OutsideJurisdiction, RecordClosed, UnknownRecord
from xueji_registry.domain.events import RegistryEvent
from xueji_registry.domain.record_events import ClosureCause
from xueji_registry.domain.rules import DEFAULT_RULES, RegistryRules
from xueji_registry.domain.state import StudentStatus

_MAY_START = (c.EnrollStudent, c.RecordTransferIn)


def decide(
    command: c.Command, state: StudentStatus | None, now: datetime, rules: RegistryRules = DEFAULT_RULES
) -> list[RegistryEvent]:
    """The events `command` records on `state` at `now`, or a RegistryError naming the rule; no I/O, no clock."""
    require_aware(now, "now")
    if state is None and not isinstance(command, _MAY_START):
        raise UnknownRecord("R01", "no status record for this student")
    permission = authorize(command.operator, command, state)
    if not permission.allowed:
        raise OutsideJurisdiction("R50", permission.reason.removeprefix("R50: "))
    if state is not None and state.closure is not None and not isinstance(command, c.EnrollStudent):
        rule = "R13" if state.closure.cause is ClosureCause.DELETED_WITH_MINISTRY_APPROVAL else "R14"
        raise RecordClosed(rule, f"the record was closed ({state.closure.cause.value}); its history is kept")
    match command:
        case c.EnrollStudent():
            return creation.enroll(command, state, now, rules)
        case c.RecordTransferIn():
            return transfers.transfer_in(command, state, now, rules)
    assert state is not None
    match command:
        case c.RequestChange():
            return change_flow.request(command, state, now, rules)
        case c.ReviewChange():
            return change_flow.review(command, state, now, rules)
        case c.RecordNationalChecks():
            return change_flow.national_checks(command, state, now, rules)
        case c.ReferDuplicateCheck():
            return change_flow.refer(command, state, now)
        case c.DecideDuplicateReview():
            return change_flow.decide_review(command, state, now, rules)
        case c.IssueFormalNumber():
            return number_commands.issue_formal_number(command, state, now)
        case c.AssignSupplementaryNumber():
            return number_commands.assign_supplementary_number(command, state, now, rules)
        case c.RecordTransferOut():
            return transfers.transfer_out(command, state, now)
        case c.CompleteStatusFile():
            return status_file.complete(command, state, now)
        case c.RecordAbsence():
            return absence.record(command, state, now)
        case c.EndAbsence():
            return absence.end(command, state, now)
        case c.RecordFileHandover():
            return absence.hand_over_file(command, state, now)
        case c.RecordException():
            return exception_commands.record(command, state, now)
        case c.RegisterFreshman():
            return progression.register_freshman(command, state, now, rules)
        case c.RecordRollback():
            return progression.roll_back(command, state, now)
    raise TypeError(f"unknown command {command!r}")  # pragma: no cover - the union is exhaustive


def handle(
    command: c.Command, state: StudentStatus | None, now: datetime, rules: RegistryRules = DEFAULT_RULES
) -> tuple[StudentStatus | None, list[RegistryEvent]]:
    """decide, then apply what was decided: the new state and the events to append."""
    events = decide(command, state, now, rules)
    for event in events:
        state = apply(state, event)
    return state, events

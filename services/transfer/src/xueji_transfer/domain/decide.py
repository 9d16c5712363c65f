"""decide(state, command, now, calendar, rules) -> events: the one entry point for every command."""

from __future__ import annotations

from datetime import datetime

from xueji_contracts.calendar import require_aware
from xueji_transfer.domain import commands as c
from xueji_transfer.domain import completion, guards, intake, offline, recompute, sla, stages
from xueji_transfer.domain.apply_events import apply
from xueji_transfer.domain.calendar import DeadlineCalendar
from xueji_transfer.domain.events import TransferEvent
from xueji_transfer.domain.rules import TransferRules
from xueji_transfer.domain.state import TransferCase


def decide(
    state: TransferCase | None, command: c.Command, now: datetime, calendar: DeadlineCalendar, rules: TransferRules
) -> list[TransferEvent]:
    """The events `command` produces on `state` at `now`, or a TransferError naming the rule; no I/O."""
    require_aware(now, "now")
    match command:
        case c.ApplyForTransfer():
            return intake.apply_for_transfer(state, command, now, calendar, rules)
        case c.AddMaterials():
            return intake.add_materials(state, command, now, calendar, rules)
        case c.ExamineConditions():
            return intake.examine_conditions(state, command, now)
        case c.DecideStage():
            return stages.decide_stage(state, command, now, calendar, rules)
        case c.FireTimer(timer_id=timer_id):
            return sla.fire_timer(guards.existing(state), timer_id, now, calendar, rules)
        case c.RecomputeDeadlines():
            return recompute.recompute_deadlines(guards.existing(state), now, calendar, rules)
        case c.DeclareSystemFailure():
            return offline.declare_system_failure(state, command, now)
        case c.RecordOfflineConsent():
            return offline.record_consent(state, command, now)
        case c.AcceptOffline():
            return offline.accept(state, command, now)
        case c.NotifyStudentToReport():
            return completion.notify_to_report(state, command, now)
        case c.RecordStudentReported():
            return completion.record_reported(state, command, now, calendar, rules)
        case c.RecordPaperFileSent():
            return completion.record_paper_file_sent(state, command, now)
        case c.RollBackTransfer():
            return completion.roll_back(state, command, now, rules)
    raise TypeError(f"unknown command {command!r}")  # pragma: no cover - the union is exhaustive


def handle(
    state: TransferCase | None, command: c.Command, now: datetime, calendar: DeadlineCalendar, rules: TransferRules
) -> tuple[TransferCase | None, list[TransferEvent]]:
    """decide, then apply what was decided: the new state and the events to append."""
    events = decide(state, command, now, calendar, rules)
    for event in events:
        state = apply(state, event)
    return state, events

"""How a newly loaded calendar (e.g. a year's State Council notice) moves a case's open deadlines (R31):
the open stage's SLA or escalation deadline, the offline timer, the paper file's deadline."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from xueji_transfer.domain.calendar import DeadlineCalendar, deadline_from
from xueji_transfer.domain.case_events import PaperFileDeadlineChanged
from xueji_transfer.domain.events import TransferEvent
from xueji_transfer.domain.offline_events import OfflineTimerArmed
from xueji_transfer.domain.rules import TransferRules
from xueji_transfer.domain.sla import offline_timer_running, paper_file_pending
from xueji_transfer.domain.stage_events import StageDeadlineChanged
from xueji_transfer.domain.state import StageState, TransferCase


def recompute_deadlines(
    case: TransferCase, now: datetime, calendar: DeadlineCalendar, rules: TransferRules
) -> list[TransferEvent]:
    """Re-ask the (newly loaded) calendar for every open deadline; an event only where one moved."""
    events: list[TransferEvent] = []
    stage = case.open_stage
    changed = _stage_deadline_change(stage, now, calendar, rules) if stage else None
    if changed is not None:
        events.append(changed)
    offline = case.offline.timer
    if offline is not None and offline_timer_running(case):
        new_offline = deadline_from(calendar, offline.opened_at, rules.offline_timeout_working_days, 0)
        if new_offline != offline:
            events.append(OfflineTimerArmed(at=now, deadline=new_offline))
    paper_due, completed_at = case.paper_file_due_at, case.completed_at
    if paper_due is not None and completed_at is not None and paper_file_pending(case):
        new_due = calendar.month_deadline(completed_at, rules.paper_file_months)
        if new_due != paper_due:
            events.append(PaperFileDeadlineChanged(at=now, previous_due_at=paper_due, due_at=new_due))
    return events


def _stage_deadline_change(
    stage: StageState, now: datetime, calendar: DeadlineCalendar, rules: TransferRules
) -> StageDeadlineChanged | None:
    which: Literal["sla", "escalation"]
    if stage.escalation_count == 0:
        previous, which = stage.deadline, "sla"
        days, lead = rules.stage_sla_working_days, rules.warning_lead_working_days
    elif stage.escalation_deadline is not None:
        previous, which = stage.escalation_deadline, "escalation"
        days, lead = rules.escalation_working_days, 0
    else:
        return None  # escalated to the top: no deadline left to move
    new = deadline_from(calendar, previous.opened_at, days, lead)
    if new == previous:
        return None
    return StageDeadlineChanged(
        at=now,
        stage=stage.stage,
        round=stage.round,
        jurisdiction=stage.jurisdiction,
        which=which,
        previous=previous,
        deadline=new,
    )

"""SLA timers as data (R22, R23, R32): which are armed for a case and what firing one records."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from xueji_contracts.messages.transfer import Stage
from xueji_transfer.domain.calendar import DeadlineCalendar, deadline_from
from xueji_transfer.domain.case_events import PaperFileOverdue
from xueji_transfer.domain.decision_time import breach_grace
from xueji_transfer.domain.events import TransferEvent
from xueji_transfer.domain.jurisdiction import code_at, county_code, next_up
from xueji_transfer.domain.offline_events import OfflineCause, OfflinePathOpened
from xueji_transfer.domain.rules import TransferRules
from xueji_transfer.domain.stage_events import StageEscalated, StageWarned
from xueji_transfer.domain.state import LEVEL, CasePhase, OfflinePhase, StageState, TransferCase


class TimerKind(StrEnum):
    WARNING = "warning"
    BREACH = "breach"
    OFFLINE = "offline"
    PAPER_FILE = "paper_file"


class ArmedTimer(BaseModel):
    """One deadline the service persists. The id changes whenever the due time does, so the service
    arms the new id and cancels ids no longer armed; re-arming an unchanged timer is a no-op."""

    model_config = ConfigDict(frozen=True)

    timer_id: str
    kind: TimerKind
    due_at: datetime
    stage: Stage | None = None


def _timer(case: TransferCase, kind: TimerKind, due_at: datetime, stage: StageState | None = None) -> ArmedTimer:
    where = f"{stage.stage.value}:r{stage.round}:e{stage.escalation_count}" if stage else "case"
    timer_id = f"{case.transfer_id}:{kind.value}:{where}:{int(due_at.timestamp())}"
    return ArmedTimer(timer_id=timer_id, kind=kind, due_at=due_at, stage=stage.stage if stage else None)


def armed_timers(case: TransferCase | None, rules: TransferRules) -> list[ArmedTimer]:
    if case is None:
        return []
    timers: list[ArmedTimer] = []
    stage = case.open_stage
    if stage is not None:
        deadline = stage.deadline
        if not stage.warned and stage.escalation_count == 0 and deadline.warn_at < deadline.due_at:
            timers.append(_timer(case, TimerKind.WARNING, deadline.warn_at, stage))
        missed = _breach_due(stage)
        if missed is not None and next_up(LEVEL[stage.stage], rules.escalation_chain, stage.escalation_count + 1):
            # A party in another province may have decided in time on a message still under way: its breach waits
            # for it (decision_time.TRANSIT) and is then judged against the due time itself.
            timers.append(_timer(case, TimerKind.BREACH, missed + breach_grace(case, stage), stage))
    if offline_timer_running(case) and case.offline.timer is not None:
        timers.append(_timer(case, TimerKind.OFFLINE, case.offline.timer.due_at))
    if paper_file_pending(case) and case.paper_file_due_at is not None:
        timers.append(_timer(case, TimerKind.PAPER_FILE, case.paper_file_due_at))
    return timers


def _breach_due(stage: StageState) -> datetime | None:
    """The due time the stage's next breach is about: its deadline, then each escalated level's."""
    if stage.escalation_count == 0:
        return stage.deadline.due_at
    return stage.escalation_deadline.due_at if stage.escalation_deadline else None


def offline_timer_running(case: TransferCase) -> bool:
    """Step 4 verified, the sending side's verifications (steps 5-6) not yet in, no offline path yet (R23)."""
    return (
        case.phase is CasePhase.ACTIVE
        and case.offline.phase is OfflinePhase.NONE
        and case.approved(Stage.RECEIVING_BUREAU)
        and not case.approved(Stage.SENDING_BUREAU)
    )


def paper_file_pending(case: TransferCase) -> bool:
    """Completed, the paper file neither recorded as sent nor already flagged overdue (R32)."""
    return case.phase is CasePhase.COMPLETED and case.paper_file_sent_at is None and not case.paper_file_overdue


def fire_timer(
    case: TransferCase, timer_id: str, now: datetime, calendar: DeadlineCalendar, rules: TransferRules
) -> list[TransferEvent]:
    timer = next((t for t in armed_timers(case, rules) if t.timer_id == timer_id), None)
    if timer is None or now < timer.due_at:
        return []  # disarmed, re-dated or fired already: a stale or early firing changes nothing
    if timer.kind is TimerKind.OFFLINE:
        return [OfflinePathOpened(at=now, cause=OfflineCause.TIMEOUT)]
    if timer.kind is TimerKind.PAPER_FILE:
        sending = case.application.sending.code
        return [PaperFileOverdue(at=now, due_at=timer.due_at, sending_school=sending, flagged_to=county_code(sending))]
    stage = case.open_stage
    assert stage is not None  # a stage timer is armed only while its stage is open
    if timer.kind is TimerKind.WARNING:
        lead = rules.warning_lead_working_days
        warned = StageWarned(
            at=now,
            stage=stage.stage,
            round=stage.round,
            jurisdiction=stage.jurisdiction,
            due_at=stage.deadline.due_at,
            working_days_left=lead,
        )
        return [warned]
    missed = _breach_due(stage)
    assert missed is not None  # the breach timer is armed only with a due time
    return [_escalate(stage, missed, now, calendar, rules)]


def _escalate(
    stage: StageState, missed: datetime, now: datetime, calendar: DeadlineCalendar, rules: TransferRules
) -> StageEscalated:
    count = stage.escalation_count + 1
    level = next_up(LEVEL[stage.stage], rules.escalation_chain, count)
    assert level is not None  # the breach timer is armed only while a level above remains
    further = next_up(LEVEL[stage.stage], rules.escalation_chain, count + 1)
    next_deadline = deadline_from(calendar, missed, rules.escalation_working_days, 0) if further else None
    return StageEscalated(
        at=now,
        stage=stage.stage,
        round=stage.round,
        jurisdiction=stage.jurisdiction,
        missed_due_at=missed,
        escalation_count=count,
        escalated_to_level=level,
        escalated_to=code_at(level, stage.jurisdiction),
        next_deadline=next_deadline,
    )

"""R22: a decision sent by another province or system counts when its sender made it, within bounds; a party in
another province is not escalated while its decision may still be under way."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import applications
from applications import RB, RS, evidence
from fujian_rules import fujian_rules
from weekday_calendar import WeekdayCalendar

from xueji_contracts.auth import OperatorClaims, Role
from xueji_contracts.messages.transfer import Decision, Stage
from xueji_transfer import domain as d
from xueji_transfer.decisions import to_command, to_message
from xueji_transfer.domain.decision_time import TRANSIT, decided_at
from xueji_transfer.domain.stage_events import StageApproved, StageEscalated, StageOpened

CST = ZoneInfo("Asia/Shanghai")
RULES, CALENDAR = fujian_rules(), WeekdayCalendar()
HUNAN_SCHOOL = "4301020001"
HN_SS = OperatorClaims(sub="clerk-hn", role=Role.SCHOOL, code=HUNAN_SCHOOL)
MONDAY = datetime(2025, 3, 10, 9, 0, tzinfo=CST)


def step(state: d.TransferCase | None, command: d.Command, at: datetime) -> tuple[d.TransferCase, list]:
    new, events = d.handle(state, command, at, CALENDAR, RULES)
    assert new is not None
    return new, events


def at_stage(sending: str) -> d.TransferCase:
    """A case whose sending school's stage (step 5) opened on Monday 10 March 2025, 09:00."""
    app = applications.application(sending=sending, materials=(evidence(d.EvidenceKind.CERTIFICATE_IMAGE),))
    state, _ = step(None, d.ApplyForTransfer(transfer_id="t-1", application=app, operator=RS), MONDAY)
    state, _ = step(state, d.ExamineConditions(operator=RS, conditions_met=True, vacancy=True), MONDAY)
    for stage, operator in ((Stage.RECEIVING_SCHOOL, RS), (Stage.RECEIVING_BUREAU, RB)):
        state, _ = step(state, d.DecideStage(stage=stage, decision=Decision.APPROVE, operator=operator), MONDAY)
    assert state.open_stage is not None and state.open_stage.stage is Stage.SENDING_SCHOOL
    return state


def sent(at: datetime) -> d.DecideStage:
    """Hunan's school approves step 5, as its message says, sent at `at` (the envelope's occurred_at)."""
    message = d.DecideStage(stage=Stage.SENDING_SCHOOL, decision=Decision.APPROVE, operator=HN_SS)
    return to_command(to_message("t-1", message), sent_at=at)


def test_r22_a_remote_decision_made_at_23_59_and_arriving_after_midnight_counts_on_time() -> None:
    state = at_stage(HUNAN_SCHOOL)
    due = state.stages[Stage.SENDING_SCHOOL].deadline.due_at
    assert due == datetime(2025, 3, 25, tzinfo=CST)  # 24:00 of Monday 24 March, the 10th working day
    made, arrived = due - timedelta(minutes=1), due + timedelta(minutes=20)
    state, events = step(state, sent(made), arrived)
    assert not any(isinstance(e, StageEscalated) for e in events)
    (approved,) = [e for e in events if isinstance(e, StageApproved)]
    assert approved.at == made  # not the arrival: on time
    (opened,) = [e for e in events if isinstance(e, StageOpened)]
    # The next stage opened on the 24th, so its 10 working days count from the 24th, not from the 25th.
    assert opened.deadline.opened_at == made and opened.deadline.due_at == datetime(2025, 4, 8, tzinfo=CST)


def test_r22_a_remote_partys_breach_waits_for_a_decision_under_way_then_escalates_for_the_due_time() -> None:
    state = at_stage(HUNAN_SCHOOL)
    due = state.stages[Stage.SENDING_SCHOOL].deadline.due_at
    (breach,) = [t for t in d.armed_timers(state, RULES) if t.kind is d.TimerKind.BREACH]
    assert breach.due_at == due + TRANSIT
    assert step(state, d.FireTimer(timer_id=breach.timer_id), due + timedelta(minutes=1))[1] == []  # not yet
    # The decision made before midnight arrives within the hour: the stage closes, no escalation ever fires.
    decided, _ = step(state, sent(due - timedelta(minutes=1)), due + timedelta(minutes=40))
    assert breach.timer_id not in {t.timer_id for t in d.armed_timers(decided, RULES)}
    # Nothing arrives within the hour: the breach fires, escalating for the due time that was missed.
    _, (escalated,) = step(state, d.FireTimer(timer_id=breach.timer_id), breach.due_at)
    assert isinstance(escalated, StageEscalated)
    assert (escalated.missed_due_at, escalated.escalated_to) == (due, "430102")
    assert escalated.next_deadline is not None and escalated.next_deadline.opened_at == due


def test_r22_a_party_in_this_province_breaches_at_its_due_time() -> None:
    state = at_stage(applications.SENDING)
    due = state.stages[Stage.SENDING_SCHOOL].deadline.due_at
    (breach,) = [t for t in d.armed_timers(state, RULES) if t.kind is d.TimerKind.BREACH]
    assert breach.due_at == due
    _, (escalated,) = step(state, d.FireTimer(timer_id=breach.timer_id), due)
    assert isinstance(escalated, StageEscalated) and escalated.missed_due_at == due


def test_r22_a_decision_over_http_counts_when_it_is_made() -> None:
    state = at_stage(applications.SENDING)
    operator = OperatorClaims(sub="clerk-ss", role=Role.SCHOOL, code=applications.SENDING)
    now = MONDAY + timedelta(days=1)
    _, events = step(
        state, d.DecideStage(stage=Stage.SENDING_SCHOOL, decision=Decision.APPROVE, operator=operator), now
    )
    assert events[0].at == now


def test_r22_a_senders_clock_is_bounded_by_arrival_the_stage_opening_and_the_transit_time() -> None:
    opened, arrived = MONDAY, MONDAY + timedelta(days=3)
    assert decided_at(arrived - timedelta(minutes=5), arrived, opened) == arrived - timedelta(minutes=5)
    assert decided_at(arrived + timedelta(hours=2), arrived, opened) == arrived  # a fast clock: never after arrival
    assert decided_at(arrived - timedelta(days=2), arrived, opened) == arrived - TRANSIT  # backdated: at most TRANSIT
    # Never before the stage opened (the decision before it): a case's history keeps its order.
    assert decided_at(opened - timedelta(days=1), opened + timedelta(minutes=10), opened) == opened

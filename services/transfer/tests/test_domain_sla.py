"""R22 and R31: stage deadlines, warnings, escalation up the chain, timers as data, recomputation."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import applications
import pytest
from applications import RB, RS, evidence
from fujian_rules import fujian_rules
from weekday_calendar import WeekdayCalendar

from xueji_contracts.messages.transfer import Decision, Level, Stage
from xueji_transfer import domain as d
from xueji_transfer.domain.jurisdiction import code_at
from xueji_transfer.domain.offline_events import OfflineTimerArmed
from xueji_transfer.domain.stage_events import StageDeadlineChanged, StageEscalated, StageWarned

CST = ZoneInfo("Asia/Shanghai")
RECEIVING, SENDING = "3506020001", "3501020003"
RULES = fujian_rules()
WEEKDAYS = WeekdayCalendar()
MONDAY = datetime(2025, 3, 10, 9, 0, tzinfo=CST)
# State Council notice for 2025: National Day Oct 1-8 off, Sunday Sep 28 and Saturday Oct 11 worked;
# Spring Festival Jan 28-Feb 4 off, Sunday Jan 26 and Saturday Feb 8 worked.
NATIONAL_DAY = {date(2025, 10, d) for d in range(1, 9)}
SPRING_FESTIVAL = {date(2025, 1, d) for d in range(28, 32)} | {date(2025, 2, d) for d in range(1, 5)}
NOTICE_2025 = WeekdayCalendar(
    rest_days=frozenset(NATIONAL_DAY | SPRING_FESTIVAL),
    work_days=frozenset({date(2025, 1, 26), date(2025, 2, 8), date(2025, 9, 28), date(2025, 10, 11)}),
    version="cn-2025",
    provisional=False,
)


def step(
    state: d.TransferCase | None,
    command: d.Command,
    at: datetime,
    calendar: WeekdayCalendar = WEEKDAYS,
    rules: d.TransferRules = RULES,
) -> tuple[d.TransferCase, list[d.TransferEvent]]:
    new, events = d.handle(state, command, at, calendar, rules)
    assert new is not None
    return new, events


def whole_semester(at: datetime) -> d.SchoolTerm:
    """The semester `at` falls in, every day of its months in session (R27 judges the semester by the day)."""
    day = at.astimezone(CST).date()
    if 2 <= day.month <= 7:
        return d.SchoolTerm(start=date(day.year, 2, 1), end=date(day.year, 7, 31), semester=2)
    year = day.year if day.month >= 8 else day.year - 1
    return d.SchoolTerm(start=date(year, 8, 1), end=date(year + 1, 1, 31), semester=1)


def opened(
    at: datetime = MONDAY, rules: d.TransferRules = RULES, calendar: WeekdayCalendar = WEEKDAYS
) -> d.TransferCase:
    """A case whose receiving-school stage (step 3) has just opened."""
    application = applications.application(
        term=whole_semester(at),  # timing is not tested here
        materials=(evidence(d.EvidenceKind.CERTIFICATE_IMAGE),),
    )
    state, _ = step(
        None, d.ApplyForTransfer(transfer_id="t-1", application=application, operator=RS), at, calendar, rules
    )
    return state


def at_receiving_bureau(at: datetime = MONDAY) -> d.TransferCase:
    state = opened(at)
    state, _ = step(state, d.ExamineConditions(operator=RS, conditions_met=True, vacancy=True), at)
    state, _ = step(state, d.DecideStage(stage=Stage.RECEIVING_SCHOOL, decision=Decision.APPROVE, operator=RS), at)
    return state


def timer(state: d.TransferCase, kind: d.TimerKind) -> tuple[str, datetime]:
    (found,) = [t for t in d.armed_timers(state, RULES) if t.kind is kind]
    return found.timer_id, found.due_at


def fire(state: d.TransferCase, kind: d.TimerKind) -> tuple[d.TransferCase, list[d.TransferEvent]]:
    timer_id, due_at = timer(state, kind)
    return step(state, d.FireTimer(timer_id=timer_id), due_at)


def test_r22_open_stage_arms_a_warning_and_a_breach_timer() -> None:
    state = opened()
    timers = {t.kind: t for t in d.armed_timers(state, RULES)}
    assert set(timers) == {d.TimerKind.WARNING, d.TimerKind.BREACH}
    assert timers[d.TimerKind.BREACH].due_at == datetime(2025, 3, 25, tzinfo=CST)  # 24:00 of the 10th working day
    assert timers[d.TimerKind.WARNING].due_at == datetime(2025, 3, 21, tzinfo=CST)  # 2 working days before
    assert all(t.stage is Stage.RECEIVING_SCHOOL and t.timer_id.startswith("t-1:") for t in timers.values())
    assert d.armed_timers(state, RULES) == d.armed_timers(state, RULES)  # stable ids: re-arming is a no-op


def test_r22_warning_fires_before_the_deadline_once() -> None:
    state = opened()
    warning_id, _ = timer(state, d.TimerKind.WARNING)
    state, events = fire(state, d.TimerKind.WARNING)
    (warned,) = events
    assert isinstance(warned, StageWarned)
    assert (warned.jurisdiction, warned.working_days_left) == (RECEIVING, 2)
    assert [t.kind for t in d.armed_timers(state, RULES)] == [d.TimerKind.BREACH]
    assert step(state, d.FireTimer(timer_id=warning_id), warned.due_at)[1] == []


def test_r22_breach_escalates_school_to_county_and_keeps_stage_open() -> None:
    state, events = fire(opened(), d.TimerKind.BREACH)
    (escalated,) = events
    assert isinstance(escalated, StageEscalated)
    assert (escalated.escalated_to_level, escalated.escalated_to, escalated.escalation_count) == (
        Level.COUNTY,
        "350602",
        1,
    )
    assert escalated.missed_due_at == datetime(2025, 3, 25, tzinfo=CST)
    assert state.open_stage is not None and state.open_stage.stage is Stage.RECEIVING_SCHOOL
    state, _ = step(state, d.ExamineConditions(operator=RS, conditions_met=True, vacancy=True), escalated.at)
    state, _ = step(
        state, d.DecideStage(stage=Stage.RECEIVING_SCHOOL, decision=Decision.APPROVE, operator=RS), escalated.at
    )
    assert state.step == 3  # still decided by the school itself


def test_r22_repeated_escalation_climbs_county_city_province_then_stops() -> None:
    state = opened()
    climbed = []
    for _ in range(3):
        state, (escalated,) = fire(state, d.TimerKind.BREACH)
        assert isinstance(escalated, StageEscalated)
        climbed.append((escalated.escalated_to_level, escalated.escalated_to))
    assert climbed == [(Level.COUNTY, "350602"), (Level.CITY, "350600"), (Level.PROVINCE, "350000")]
    assert [t.kind for t in d.armed_timers(state, RULES)] == []
    assert state.open_stage is not None  # still open, still the school's to decide


def test_r22_each_escalated_level_gets_another_period_before_the_next() -> None:
    state, (escalated,) = fire(opened(), d.TimerKind.BREACH)
    assert isinstance(escalated, StageEscalated) and escalated.next_deadline is not None
    _, due = timer(state, d.TimerKind.BREACH)
    assert due == escalated.next_deadline.due_at == datetime(2025, 4, 9, tzinfo=CST)  # 10 working days on


def test_r22_bureau_stage_breach_escalates_to_the_city() -> None:
    state = at_receiving_bureau()
    state, (escalated,) = fire(state, d.TimerKind.BREACH)
    assert isinstance(escalated, StageEscalated)
    assert (escalated.stage, escalated.escalated_to_level, escalated.escalated_to) == (
        Stage.RECEIVING_BUREAU,
        Level.CITY,
        "350600",
    )


def test_r22_escalation_targets_derive_from_the_codes() -> None:
    school = "4301050012"
    assert [code_at(level, school) for level in (Level.COUNTY, Level.CITY, Level.PROVINCE)] == [
        "430105",
        "430100",
        "430000",
    ]


def test_r22_a_decision_disarms_the_stage_timers_and_arms_the_next_stages() -> None:
    before = {t.timer_id for t in d.armed_timers(opened(), RULES)}
    state = at_receiving_bureau()
    after = d.armed_timers(state, RULES)
    assert before.isdisjoint(t.timer_id for t in after)
    assert {t.stage for t in after if t.kind in (d.TimerKind.WARNING, d.TimerKind.BREACH)} == {Stage.RECEIVING_BUREAU}


def test_r22_early_stale_or_unknown_timers_change_nothing() -> None:
    state = opened()
    breach_id, due = timer(state, d.TimerKind.BREACH)
    assert step(state, d.FireTimer(timer_id=breach_id), due - timedelta(seconds=1))[1] == []
    assert step(state, d.FireTimer(timer_id="t-1:breach:nonsense"), due)[1] == []
    escalated, _ = step(state, d.FireTimer(timer_id=breach_id), due)
    assert step(escalated, d.FireTimer(timer_id=breach_id), due + timedelta(hours=1))[1] == []  # redelivered


def test_r22_sla_and_warning_lead_are_configurable() -> None:
    rules = fujian_rules(stage_sla_working_days=5, warning_lead_working_days=1)
    state = opened(rules=rules)
    deadline = state.stages[Stage.RECEIVING_SCHOOL].deadline
    # 5th working day after Monday Mar 10 is Mon Mar 17; the warning is at the end of the 4th, Fri Mar 14.
    assert (deadline.due_at, deadline.warn_at) == (datetime(2025, 3, 18, tzinfo=CST), datetime(2025, 3, 15, tzinfo=CST))


def test_r22_a_shorter_escalation_chain_stops_earlier() -> None:
    rules = fujian_rules(escalation_chain=(Level.SCHOOL, Level.COUNTY))
    state = opened(rules=rules)
    state, (escalated,) = step(
        state, d.FireTimer(timer_id=timer(state, d.TimerKind.BREACH)[0]), datetime(2025, 3, 25, tzinfo=CST), rules=rules
    )
    assert isinstance(escalated, StageEscalated) and escalated.next_deadline is None
    assert [t.kind for t in d.armed_timers(state, rules)] == []


def test_r31_new_notice_moves_a_national_day_deadline_and_says_so() -> None:
    state = opened(datetime(2025, 9, 29, 9, 0, tzinfo=CST))
    provisional = state.stages[Stage.RECEIVING_SCHOOL].deadline
    assert provisional.due_at == datetime(2025, 10, 14, tzinfo=CST) and provisional.provisional
    state, events = step(state, d.RecomputeDeadlines(), datetime(2025, 9, 30, tzinfo=CST), NOTICE_2025)
    (changed,) = events
    assert isinstance(changed, StageDeadlineChanged) and changed.which == "sla"
    assert changed.previous == provisional
    # Sep 30, Oct 9, 10, 11 (make-up Saturday), 13, 14, 15, 16, 17, 20.
    assert changed.deadline.due_at == datetime(2025, 10, 21, tzinfo=CST)
    assert changed.deadline.warn_at == datetime(2025, 10, 17, tzinfo=CST)
    assert (changed.deadline.calendar_version, changed.deadline.provisional) == ("cn-2025", False)
    assert state.stages[Stage.RECEIVING_SCHOOL].deadline == changed.deadline
    assert timer(state, d.TimerKind.BREACH)[1] == changed.deadline.due_at


def test_r31_spring_festival_with_make_up_days() -> None:
    state = opened(datetime(2025, 1, 24, 9, 0, tzinfo=CST), calendar=NOTICE_2025)
    # Jan 26 (make-up Sunday), 27, Feb 5, 6, 7, 8 (make-up Saturday), 10, 11, 12, 13.
    assert state.stages[Stage.RECEIVING_SCHOOL].deadline.due_at == datetime(2025, 2, 14, tzinfo=CST)


def test_r31_recomputing_with_an_unchanged_result_emits_nothing() -> None:
    state = opened()
    assert step(state, d.RecomputeDeadlines(), MONDAY, WeekdayCalendar())[1] == []


def test_r31_an_escalated_stage_recomputes_its_escalation_deadline() -> None:
    state, _ = fire(opened(datetime(2025, 9, 1, 9, 0, tzinfo=CST)), d.TimerKind.BREACH)  # missed at 24:00 Sep 15
    _, events = step(state, d.RecomputeDeadlines(), datetime(2025, 9, 20, tzinfo=CST), NOTICE_2025)
    (changed,) = events
    assert isinstance(changed, StageDeadlineChanged) and changed.which == "escalation"
    # Weekday-only: 10 working days after Sep 16 end on Sep 30; the notice makes Sunday Sep 28 a working day.
    assert (changed.previous.due_at, changed.deadline.due_at) == (
        datetime(2025, 10, 1, tzinfo=CST),
        datetime(2025, 9, 30, tzinfo=CST),
    )


def test_r31_the_offline_timer_is_recomputed_too() -> None:
    verified = datetime(2025, 9, 15, 9, 0, tzinfo=CST)
    state = at_receiving_bureau(verified)
    state, _ = step(
        state, d.DecideStage(stage=Stage.RECEIVING_BUREAU, decision=Decision.APPROVE, operator=RB), verified
    )
    assert timer(state, d.TimerKind.OFFLINE)[1] == datetime(2025, 10, 14, tzinfo=CST)  # 20 weekdays
    _, events = step(state, d.RecomputeDeadlines(), datetime(2025, 9, 16, tzinfo=CST), NOTICE_2025)
    offline = [e for e in events if isinstance(e, OfflineTimerArmed)]
    assert len(offline) == 1 and not offline[0].deadline.provisional
    # Sep 16-19, 22-26, 28 (Sunday worked), 29, 30, Oct 9, 10, 11 (Saturday worked), 13-17 -> the 20th is Oct 17.
    assert offline[0].deadline.due_at == datetime(2025, 10, 18, tzinfo=CST)


@pytest.mark.parametrize(
    ("utc", "due"),
    [
        (datetime(2025, 3, 9, 15, 59, tzinfo=UTC), datetime(2025, 3, 22, tzinfo=CST)),  # Sunday 23:59 in Beijing
        (datetime(2025, 3, 9, 16, 0, tzinfo=UTC), datetime(2025, 3, 25, tzinfo=CST)),  # Monday 00:00 in Beijing
        (datetime(2025, 3, 10, 15, 59, tzinfo=UTC), datetime(2025, 3, 25, tzinfo=CST)),  # Monday 23:59 in Beijing
    ],
)
def test_r31_deadlines_count_from_the_china_standard_time_day(utc: datetime, due: datetime) -> None:
    assert opened(utc).stages[Stage.RECEIVING_SCHOOL].deadline.due_at == due

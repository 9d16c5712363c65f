"""R32 and R33: the paper file deadline after completion and the rollback of a graduate's mistaken transfer."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import applications
import pytest
from applications import RB, RS, evidence
from fujian_rules import fujian_rules
from weekday_calendar import WeekdayCalendar

from xueji_contracts.auth import OperatorClaims, Role
from xueji_contracts.calendar import national_calendar
from xueji_contracts.messages.status import StatusState
from xueji_contracts.messages.transfer import Decision, Stage
from xueji_transfer import domain as d
from xueji_transfer.domain.case_events import (
    PaperFileDeadlineChanged,
    PaperFileOverdue,
    PaperFileSent,
    TransferRolledBack,
)

CST = ZoneInfo("Asia/Shanghai")
RECEIVING, SENDING = "3506020001", "3501020003"
SS = OperatorClaims(sub="clerk-ss", role=Role.SCHOOL, code=SENDING)
SB = OperatorClaims(sub="bureau-sb", role=Role.COUNTY, code="350102")
PARTY = {Stage.RECEIVING_SCHOOL: RS, Stage.RECEIVING_BUREAU: RB, Stage.SENDING_SCHOOL: SS, Stage.SENDING_BUREAU: SB}
RULES = fujian_rules()
COMPLETED_AT = datetime(2025, 9, 10, 15, 0, tzinfo=CST)


def step(
    state: d.TransferCase | None, command: d.Command, at: datetime
) -> tuple[d.TransferCase, list[d.TransferEvent]]:
    new, events = d.handle(state, command, at, WeekdayCalendar(), RULES)
    assert new is not None
    return new, events


def completed(at: datetime = COMPLETED_AT) -> d.TransferCase:
    """A graduate's progression from Fuzhou to Zhangzhou, completed at `at`."""
    application = applications.application(
        student_id="stu-7", status=StatusState.GRADUATED, kind=d.TransferKind.PROGRESSION,
        graduated_on=date(2025, 6, 30), grade=10, target_grade=10, term=None,
        materials=(evidence(d.EvidenceKind.CERTIFICATE_IMAGE),),
    )  # fmt: skip
    state, _ = step(None, d.ApplyForTransfer(transfer_id="t-7", application=application, operator=RS), at)
    state, _ = step(state, d.ExamineConditions(operator=RS, conditions_met=True, vacancy=True), at)
    for stage, operator in PARTY.items():
        state, _ = step(state, d.DecideStage(stage=stage, decision=Decision.APPROVE, operator=operator), at)
    state, _ = step(state, d.NotifyStudentToReport(operator=RS), at)
    state, _ = step(
        state, d.RecordStudentReported(operator=RS, electronic_file=evidence(d.EvidenceKind.ELECTRONIC_FILE)), at
    )
    assert state.phase is d.CasePhase.COMPLETED
    return state


def test_r32_paper_file_is_due_one_calendar_month_after_completion() -> None:
    state = completed()
    assert state.paper_file_due_at == datetime(2025, 10, 11, tzinfo=CST)  # 24:00 on Oct 10
    assert [(t.kind, t.due_at) for t in d.armed_timers(state, RULES)] == [
        (d.TimerKind.PAPER_FILE, state.paper_file_due_at)
    ]


def test_r32_month_end_completion_is_due_at_the_end_of_the_shorter_month() -> None:
    state = completed(datetime(2025, 1, 31, 10, 0, tzinfo=CST))
    assert state.paper_file_due_at == datetime(2025, 3, 1, tzinfo=CST)  # 24:00 on Friday Feb 28


def test_r32_a_last_day_that_is_not_a_working_day_moves_to_the_next_working_day() -> None:
    state = completed(datetime(2026, 1, 31, 10, 0, tzinfo=CST))  # Feb 28, 2026 is a Saturday
    assert state.paper_file_due_at == datetime(2026, 3, 3, tzinfo=CST)  # 24:00 on Monday Mar 2


def test_r31_loading_the_2026_notice_moves_the_paper_file_deadline() -> None:
    state = completed(datetime(2026, 1, 31, 10, 0, tzinfo=CST))
    (before,) = d.armed_timers(state, RULES)
    new, events = d.handle(state, d.RecomputeDeadlines(), datetime(2026, 2, 2, tzinfo=CST), national_calendar(), RULES)
    (changed,) = events
    assert isinstance(changed, PaperFileDeadlineChanged)
    # The notice makes Saturday Feb 28, 2026 a make-up working day, so the month ends on it.
    assert (changed.previous_due_at, changed.due_at) == (
        datetime(2026, 3, 3, tzinfo=CST),
        datetime(2026, 3, 1, tzinfo=CST),
    )
    assert new is not None
    (after,) = d.armed_timers(new, RULES)
    assert after.due_at == changed.due_at and after.timer_id != before.timer_id


def test_r32_overdue_paper_file_is_flagged_to_the_sending_county() -> None:
    state = completed()
    (timer,) = d.armed_timers(state, RULES)
    state, (overdue,) = step(state, d.FireTimer(timer_id=timer.timer_id), timer.due_at)
    assert isinstance(overdue, PaperFileOverdue)
    assert (overdue.sending_school, overdue.flagged_to) == (SENDING, "350102")
    assert d.armed_timers(state, RULES) == []


def test_r32_the_sending_school_records_the_paper_file_sent_and_the_timer_disarms() -> None:
    state = completed()
    with pytest.raises(d.OutsideJurisdiction):
        step(state, d.RecordPaperFileSent(operator=RS, method=d.PaperFileMethod.MAILED), COMPLETED_AT)
    state, (sent,) = step(
        state, d.RecordPaperFileSent(operator=SS, method=d.PaperFileMethod.VIA_GUARDIAN), COMPLETED_AT
    )
    assert isinstance(sent, PaperFileSent) and d.armed_timers(state, RULES) == []
    with pytest.raises(d.OutOfOrder, match="R32"):
        step(state, d.RecordPaperFileSent(operator=SS, method=d.PaperFileMethod.MAILED), COMPLETED_AT)


def test_r33_county_office_rolls_back_a_graduates_mistaken_transfer_and_is_recorded() -> None:
    state, (rolled,) = step(
        completed(), d.RollBackTransfer(operator=RB, reason="wrong student"), datetime(2025, 12, 1, tzinfo=CST)
    )
    assert isinstance(rolled, TransferRolledBack)
    assert rolled.operated_by == RB  # who operates, who is responsible
    assert (rolled.back_to_school, rolled.from_school, rolled.student_id) == (SENDING, RECEIVING, "stu-7")
    assert state.phase is d.CasePhase.ROLLED_BACK and d.armed_timers(state, RULES) == []


def test_r33_rollback_only_within_6_months_after_graduation() -> None:
    last_day = datetime(2025, 12, 30, 23, 59, tzinfo=CST)
    assert step(completed(), d.RollBackTransfer(operator=SB, reason="x"), last_day)[0].phase is d.CasePhase.ROLLED_BACK
    with pytest.raises(d.Refused, match="2025-12-30") as refused:
        step(completed(), d.RollBackTransfer(operator=RB, reason="x"), datetime(2025, 12, 31, tzinfo=CST))
    assert refused.value.rule == "R33"


@pytest.mark.parametrize(
    "operator",
    [
        RS,
        OperatorClaims(sub="c", role=Role.CITY, code="350600"),
        OperatorClaims(sub="x", role=Role.COUNTY, code="350603"),
    ],
)
def test_r33_only_a_county_status_office_of_either_school_may_roll_back(operator: OperatorClaims) -> None:
    with pytest.raises(d.OutsideJurisdiction) as refused:
        step(completed(), d.RollBackTransfer(operator=operator, reason="x"), COMPLETED_AT)
    assert refused.value.rule == "R33"


def test_r33_only_a_completed_graduates_transfer_rolls_back() -> None:
    state = completed()
    not_graduate = state.model_copy(update={"application": state.application.model_copy(update={"graduated_on": None})})
    with pytest.raises(d.Refused, match="graduate"):
        step(not_graduate, d.RollBackTransfer(operator=RB, reason="x"), COMPLETED_AT)
    running = state.model_copy(update={"phase": d.CasePhase.ACTIVE})
    with pytest.raises(d.OutOfOrder):
        step(running, d.RollBackTransfer(operator=RB, reason="x"), COMPLETED_AT)

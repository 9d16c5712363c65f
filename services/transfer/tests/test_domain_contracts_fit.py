"""The domain on the real contracts: the national calendar as its DeadlineCalendar (R31), a province
policy file as its TransferRules (R22-R29), and the weekday stand-in agreeing with the real calendar."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from weekday_calendar import WeekdayCalendar

from xueji_contracts.auth import OperatorClaims, Role
from xueji_contracts.calendar import national_calendar
from xueji_contracts.messages.status import StatusState
from xueji_contracts.messages.transfer import Stage
from xueji_contracts.policy import load_policy
from xueji_transfer import domain as d

CST = ZoneInfo("Asia/Shanghai")
RS = OperatorClaims(sub="clerk-rs", role=Role.SCHOOL, code="3506020001")
NOTICE_2025 = WeekdayCalendar(
    rest_days=frozenset({date(2025, 10, d) for d in range(1, 9)} | {date(2025, 1, d) for d in range(28, 32)})
    | frozenset({date(2025, 2, d) for d in range(1, 5)}),
    work_days=frozenset({date(2025, 1, 26), date(2025, 2, 8), date(2025, 9, 28), date(2025, 10, 11)}),
    version="cn-2025",
    provisional=False,
)


def application(reason: str = "household_move") -> d.TransferApplication:
    return d.TransferApplication(
        student_id="stu-1",
        status=StatusState.ENROLLED,
        sending=d.SchoolSide(code="4301020001"),
        receiving=d.SchoolSide(code="3506020001"),
        grade=4,
        target_grade=4,
        term=d.SchoolTerm(start=date(2025, 9, 1), end=date(2026, 1, 23), semester=1),
        reason=reason,
    )


@pytest.mark.parametrize(
    "opened_at",
    [
        datetime(2025, 9, 29, 9, 0, tzinfo=CST),  # across National Day and both make-up days
        datetime(2025, 1, 24, 9, 0, tzinfo=CST),  # across Spring Festival
        datetime(2025, 3, 10, 23, 59, tzinfo=CST),
    ],
)
def test_r31_the_weekday_stand_in_with_a_notice_agrees_with_the_national_calendar(opened_at: datetime) -> None:
    national: d.DeadlineCalendar = national_calendar()  # the real calendar satisfies the domain's Protocol
    real, stand_in = national.stage_deadline(opened_at, 10, 2), NOTICE_2025.stage_deadline(opened_at, 10, 2)
    assert (real.due_at, real.warn_at, real.provisional) == (stand_in.due_at, stand_in.warn_at, False)
    assert national.month_deadline(opened_at, 1) == NOTICE_2025.month_deadline(opened_at, 1)


def test_r31_a_case_on_the_national_calendar_is_provisional_only_past_the_loaded_years() -> None:
    rules = d.TransferRules(timing=None)
    calendar = national_calendar()
    loaded, _ = d.handle(
        None,
        d.ApplyForTransfer(transfer_id="t", application=application(), operator=RS),
        datetime(2025, 10, 9, tzinfo=CST),
        calendar,
        rules,
    )
    assert loaded is not None
    deadline = loaded.stages[Stage.RECEIVING_SCHOOL].deadline
    assert deadline.calendar_version == calendar.version and not deadline.provisional
    last_year = max(calendar.notice_years)
    late = datetime(last_year, 12, 28, 9, 0, tzinfo=CST)
    unloaded, _ = d.handle(
        None, d.ApplyForTransfer(transfer_id="t", application=application(), operator=RS), late, calendar, rules
    )
    assert unloaded is not None and unloaded.stages[Stage.RECEIVING_SCHOOL].deadline.provisional


def test_r27_r29_no_province_value_is_a_domain_default_fujian_comes_from_its_file() -> None:
    # The domain's defaults are national: no reason list, no R27 timing clauses, no materials checklist.
    national = d.TransferRules()
    assert national.timing is None and national.required_materials == ()
    assert national.compulsory_reasons == national.senior_reasons == national.both_parents_reasons == frozenset()
    fujian = d.TransferRules.from_policy(load_policy("fj"))
    assert fujian.timing is not None and len(fujian.timing.excluded_semesters) == 2
    assert len(fujian.compulsory_reasons) == 5 and len(fujian.senior_reasons) == 4
    assert fujian.both_parents_reasons == {"guardian_relocation", "residence_move"}  # 002 III.1(2)-(3): 父母双方
    assert fujian.vocational_only_reasons == {"vocational_talent"}  # 002 III.2(4)


def test_r30_the_materials_checklist_is_the_policy_files() -> None:
    fujian = d.TransferRules.from_policy(load_policy("fj"))
    assert [(m.kind, m.when.value) for m in fujian.required_materials] == [
        ("registration_form", "always"),
        ("status_basic_info", "always"),
        ("household_register", "always"),
        ("reason_proof", "register_unchanged"),
        ("status_change_proof", "earlier_status_change"),
    ]
    national = d.TransferRules.from_policy(load_policy("hn"))  # Hunan's file lists none: 003 Q11's two
    assert [m.kind for m in national.required_materials] == ["status_basic_info", "registration_form"]


def test_r29_a_province_without_reasons_or_timing_refuses_neither() -> None:
    hunan = d.TransferRules.from_policy(load_policy("hn"))
    assert hunan.timing is None and hunan.compulsory_reasons == frozenset()
    summer_break = datetime(2025, 8, 20, 9, 0, tzinfo=CST)
    apply = d.ApplyForTransfer(transfer_id="t", application=application(reason="any_reason"), operator=RS)
    state, _ = d.handle(None, apply, summer_break, WeekdayCalendar(), hunan)
    assert state is not None and state.step == 1

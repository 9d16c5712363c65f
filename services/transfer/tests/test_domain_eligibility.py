"""R20, R25-R29: who may apply, when a transfer may be initiated, grade rules and reasons."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import applications
import pytest
from applications import RB, RS
from fujian_rules import fujian_rules
from weekday_calendar import WeekdayCalendar

from xueji_contracts.messages.status import StatusState
from xueji_contracts.messages.transfer import Decision, Stage
from xueji_contracts.policy import TransferWindows, YearlyWindow, load_policy
from xueji_transfer import domain as d
from xueji_transfer.domain.exceptions import record

CST = ZoneInfo("Asia/Shanghai")
RECEIVING, SENDING, HUNAN = "3506020001", "3506030002", "4301020001"
SPRING = d.SchoolTerm(start=date(2025, 2, 17), end=date(2025, 7, 4), semester=2)
AUTUMN = d.SchoolTerm(start=date(2025, 9, 1), end=date(2026, 1, 23), semester=1)
IN_TERM = datetime(2025, 4, 8, 10, 0, tzinfo=CST)
NO_TIMING = fujian_rules(timing=None)
CERTIFICATE = d.Evidence(kind=d.EvidenceKind.CERTIFICATE_IMAGE, uri="s3://c", sha256="ab" * 32)


def application(**changes: Any) -> d.TransferApplication:
    return applications.application(**({"sending": SENDING, "materials": (CERTIFICATE,)} | changes))


def senior(**changes: Any) -> d.TransferApplication:
    base: dict[str, Any] = {"grade": 11, "target_grade": 11, "reason": "household_move"}
    return application(**(base | changes))


def progression(**changes: Any) -> d.TransferApplication:
    base: dict[str, Any] = {
        "kind": d.TransferKind.PROGRESSION,
        "status": StatusState.GRADUATED,
        "graduated_on": date(2025, 6, 30),
        "sending": HUNAN,
        "grade": 10,
        "target_grade": 10,
        "term": None,
    }
    return application(**(base | changes))


def apply(app: d.TransferApplication, at: datetime = IN_TERM, rules: d.TransferRules | None = None) -> d.TransferCase:
    state, _ = d.handle(
        None,
        d.ApplyForTransfer(transfer_id="t-1", application=app, operator=RS),
        at,
        WeekdayCalendar(),
        rules or fujian_rules(),
    )
    assert state is not None
    return state


def refused(app: d.TransferApplication, at: datetime = IN_TERM, rules: d.TransferRules | None = None) -> d.Refused:
    with pytest.raises(d.Refused) as caught:
        d.decide(
            None,
            d.ApplyForTransfer(transfer_id="t-1", application=app, operator=RS),
            at,
            WeekdayCalendar(),
            rules or fujian_rules(),
        )
    return caught.value


def test_r20_a_student_without_status_is_not_transferred_but_admission_is_not_blocked() -> None:
    error = refused(application(student_id=None, status=None))
    assert (error.rule, error.field) == ("R20", "student_id")
    assert "admission goes ahead" in error.reason and "new status" in error.reason


@pytest.mark.parametrize(
    "status",
    [StatusState.ENROLLED, StatusState.ABROAD, StatusState.DROPPED_OUT, StatusState.EXPELLED, StatusState.LEFT],
)
def test_r28_these_statuses_may_transfer(status: StatusState) -> None:
    assert apply(application(status=status)).step == 1


def test_r28_a_suspended_student_must_first_resume() -> None:
    error = refused(application(status=StatusState.SUSPENDED))
    assert (error.rule, error.field) == ("R28", "status") and "resume" in error.reason


@pytest.mark.parametrize("status", [StatusState.GRADUATED, StatusState.DECEASED, StatusState.TRANSFERRED])
def test_r28_other_statuses_cannot_transfer(status: StatusState) -> None:
    assert refused(application(status=status)).rule == "R28"


def test_r25_no_initiation_during_blackout_but_earlier_case_continues() -> None:
    early = datetime(2025, 7, 14, 23, 59, tzinfo=CST)
    state = apply(application(), early, NO_TIMING)
    calendar = WeekdayCalendar()
    state, _ = d.handle(
        state, d.ExamineConditions(operator=RS, conditions_met=True, vacancy=True), early, calendar, NO_TIMING
    )
    initiate = d.DecideStage(stage=Stage.RECEIVING_SCHOOL, decision=Decision.APPROVE, operator=RS)
    state, _ = d.handle(state, initiate, early, calendar, NO_TIMING)
    in_blackout = datetime(2025, 7, 21, 10, 0, tzinfo=CST)
    verify = d.DecideStage(stage=Stage.RECEIVING_BUREAU, decision=Decision.APPROVE, operator=RB)
    state, _ = d.handle(state, verify, in_blackout, calendar, NO_TIMING)
    assert state is not None and state.step == 4
    assert refused(application(), in_blackout, NO_TIMING).rule == "R25"


@pytest.mark.parametrize(
    ("at", "blocked"),
    [
        (datetime(2025, 7, 14, 23, 59, 59, tzinfo=CST), False),
        (datetime(2025, 7, 15, 0, 0, tzinfo=CST), True),
        (datetime(2025, 7, 14, 16, 0, tzinfo=UTC), True),  # 00:00 Jul 15 in Beijing
        (datetime(2025, 8, 14, 23, 59, 59, tzinfo=CST), True),
        (datetime(2025, 8, 15, 0, 0, tzinfo=CST), False),
    ],
)
def test_r25_blackout_runs_jul_15_0000_to_aug_14_2400_china_time(at: datetime, blocked: bool) -> None:
    if blocked:
        assert refused(application(), at, NO_TIMING).rule == "R25"
    else:
        assert apply(application(), at, NO_TIMING).step == 1


def test_r25_a_case_applied_before_but_not_initiated_waits_out_the_blackout() -> None:
    early = datetime(2025, 7, 10, 9, 0, tzinfo=CST)
    state = apply(application(), early, NO_TIMING)
    state, _ = d.handle(
        state, d.ExamineConditions(operator=RS, conditions_met=True, vacancy=True), early, WeekdayCalendar(), NO_TIMING
    )
    initiate = d.DecideStage(stage=Stage.RECEIVING_SCHOOL, decision=Decision.APPROVE, operator=RS)
    with pytest.raises(d.Refused, match="R25"):
        d.decide(state, initiate, datetime(2025, 7, 16, 9, 0, tzinfo=CST), WeekdayCalendar(), NO_TIMING)


@pytest.mark.parametrize(
    ("day", "open_"),
    [
        (date(2025, 8, 15), True),
        (date(2025, 12, 14), True),
        (date(2025, 12, 15), False),
        (date(2026, 2, 14), False),
        (date(2026, 3, 1), True),
        (date(2026, 5, 31), True),
        (date(2026, 6, 1), False),
    ],
)
def test_r26_interprovincial_progression_only_in_its_windows(day: date, open_: bool) -> None:
    at = datetime(day.year, day.month, day.day, 12, 0, tzinfo=CST)
    if open_:
        assert apply(progression(), at).step == 1
    else:
        assert refused(progression(), at).rule == "R26"


def test_r26_windows_are_configurable_and_may_wrap_the_year() -> None:
    english = fujian_rules(windows=TransferWindows(progression=(YearlyWindow(start="08-15", end="02-14"),)))
    assert apply(progression(), datetime(2026, 1, 10, 12, 0, tzinfo=CST), english).step == 1
    assert refused(progression(), datetime(2026, 3, 10, 12, 0, tzinfo=CST), english).rule == "R26"


def test_r26_progression_within_one_province_is_not_window_bound() -> None:
    assert apply(progression(sending=d.SchoolSide(code=SENDING)), datetime(2026, 1, 10, 12, 0, tzinfo=CST)).step == 1


def test_r27_only_in_session_not_between_semesters() -> None:
    assert apply(application(term=AUTUMN), datetime(2025, 9, 3, 9, 0, tzinfo=CST)).step == 1
    assert apply(application(term=SPRING), datetime(2025, 7, 4, 9, 0, tzinfo=CST)).step == 1
    winter_break = datetime(2025, 2, 10, 9, 0, tzinfo=CST)
    error = refused(application(term=SPRING), winter_break)
    assert error.rule == "R27" and "semester" in error.reason


@pytest.mark.parametrize(
    ("grade", "term"), [(1, AUTUMN), (7, AUTUMN), (10, AUTUMN), (6, SPRING), (9, SPRING), (12, SPRING)]
)
def test_r27_not_first_semester_of_first_grade_nor_last_of_graduation_grade(grade: int, term: d.SchoolTerm) -> None:
    at = datetime(2025, 10, 9, tzinfo=CST) if term is AUTUMN else IN_TERM
    error = refused(application(grade=grade, target_grade=grade, term=term), at)
    assert (error.rule, error.field) == ("R27", "term")


# What a receiving school might write for the graduation grade's spring semester of 2024-2025 (IN_TERM, 2025-04-08).
SPRING_CALLED_FIRST = d.SchoolTerm(start=date(2025, 2, 17), end=date(2025, 7, 4), semester=1)
WHOLE_YEAR_AS_FIRST = d.SchoolTerm(start=date(2024, 9, 2), end=date(2025, 7, 4), semester=1)
LAST_AUTUMN = d.SchoolTerm(start=date(2024, 9, 2), end=date(2025, 1, 17), semester=1)


@pytest.mark.parametrize(
    ("term", "field"),
    [(SPRING_CALLED_FIRST, "term.semester"), (WHOLE_YEAR_AS_FIRST, "term.end"), (LAST_AUTUMN, "term")],
)
def test_r27_the_semester_is_the_day_s_whatever_the_school_writes(term: d.SchoolTerm, field: str) -> None:
    """Only the receiving county bureau may except R27 (RULES "Exceptions": a school can never grant one), so the
    form cannot take the graduation grade's last semester out of the rule by calling it the first."""
    error = refused(application(grade=9, target_grade=9, term=term), IN_TERM)
    assert (error.rule, error.field) == ("R27", field)
    assert (refused(application(grade=9, target_grade=9, term=SPRING), IN_TERM).field) == "term"  # told truthfully


def test_r27_the_student_keeps_their_grade() -> None:
    error = refused(application(target_grade=3))
    assert (error.rule, error.field) == ("R27", "target_grade")


def test_r27_is_a_fujian_rule_other_provinces_may_switch_off() -> None:
    assert (
        apply(application(grade=1, target_grade=1, term=AUTUMN), datetime(2025, 2, 10, tzinfo=CST), NO_TIMING).step == 1
    )


@pytest.mark.parametrize(
    "reason",
    ["household_move", "guardian_relocation", "residence_move", "guardian_away_or_service", "physical_condition"],
)
def test_r29_the_five_compulsory_education_reasons(reason: str) -> None:
    assert apply(application(reason=reason, guardians_moved=d.GuardiansMoved.BOTH_PARENTS)).step == 1


@pytest.mark.parametrize("reason", ["guardian_relocation", "residence_move"])
def test_r29_compulsory_reasons_2_and_3_need_both_parents(reason: str) -> None:
    for who in (None, d.GuardiansMoved.ONE_PARENT):
        error = refused(application(reason=reason, guardians_moved=who))
        assert (error.rule, error.field) == ("R29", "guardians_moved") and "父母双方" in error.reason
    assert apply(application(reason=reason, guardians_moved=d.GuardiansMoved.OTHER_GUARDIAN)).step == 1
    assert apply(application(reason="household_move", guardians_moved=d.GuardiansMoved.ONE_PARENT)).step == 1


def test_r29_the_reason_rules_come_from_the_province_policy_file() -> None:
    fujian = d.TransferRules.from_policy(load_policy("35"))
    assert fujian.both_parents_reasons == {"guardian_relocation", "residence_move"}
    assert fujian.vocational_only_reasons == {"vocational_talent"}
    hunan = d.TransferRules.from_policy(load_policy("43"))
    assert apply(application(reason="residence_move"), rules=hunan.model_copy(update={"timing": None})).step == 1


@pytest.mark.parametrize(
    "reason", ["household_move", "guardian_away_or_service", "health_same_city", "vocational_talent"]
)
def test_r29_the_four_senior_high_reasons(reason: str) -> None:
    kind = d.SchoolKind.VOCATIONAL if reason == "vocational_talent" else d.SchoolKind.GENERAL
    assert apply(senior(reason=reason, receiving=d.SchoolSide(code=RECEIVING, kind=kind))).step == 1


def test_r29_an_unlisted_reason_is_refused_and_named() -> None:
    error = refused(application(reason="better_school"))
    assert (error.rule, error.field) == ("R29", "reason") and "better_school" in error.reason
    assert refused(senior(reason="physical_condition")).rule == "R29"


def test_r29_reason_codes_are_data() -> None:
    rules = fujian_rules(compulsory_reasons=frozenset({"better_school"}))
    assert apply(application(reason="better_school"), rules=rules).step == 1


def test_r29_senior_high_transfers_are_same_level_only() -> None:
    error = refused(
        senior(sending=d.SchoolSide(code=SENDING, rank="1"), receiving=d.SchoolSide(code=RECEIVING, rank="2"))
    )
    assert error.rule == "R29" and "same level" in error.reason
    assert (
        apply(
            senior(sending=d.SchoolSide(code=SENDING, rank="1"), receiving=d.SchoolSide(code=RECEIVING, rank="1"))
        ).step
        == 1
    )


def test_r29_international_and_regular_classes_are_not_interchangeable() -> None:
    international = d.SchoolSide(code=SENDING, class_type=d.ClassType.INTERNATIONAL)
    assert refused(senior(sending=international)).rule == "R29"


def vocational(**proof: Any) -> d.TransferApplication:
    fields: dict[str, Any] = {
        "applied_city": "350600",
        "score": 612,
        "admission_score": 600,
        "school_confirmed": True,
        "bureau_confirmed": True,
    }
    return senior(
        sending=d.SchoolSide(code=SENDING, kind=d.SchoolKind.VOCATIONAL),
        vocational_to_general=d.VocationalToGeneral(**(fields | proof)),
    )


def test_r29_vocational_to_general_within_the_applied_city_with_score_and_both_confirmations() -> None:
    assert apply(vocational()).step == 1
    assert refused(senior(sending=d.SchoolSide(code=SENDING, kind=d.SchoolKind.VOCATIONAL))).rule == "R29"
    for bad in ({"applied_city": "350100"}, {"score": 599}, {"school_confirmed": False}, {"bureau_confirmed": False}):
        assert refused(vocational(**bad)).rule == "R29", bad


def test_r29_a_general_senior_high_student_with_reason_iii_2_4_moves_only_to_a_vocational_school() -> None:
    error = refused(senior(reason="vocational_talent"))
    assert (error.rule, error.field) == ("R29", "receiving") and "vocational" in error.reason
    ranked = senior(
        reason="vocational_talent", sending=d.SchoolSide(code=SENDING, rank="1"), receiving=d.SchoolSide(code=RECEIVING)
    )
    assert refused(ranked).rule == "R29"


def test_r29_general_to_vocational_is_allowed() -> None:
    to_vocational = senior(
        reason="vocational_talent", receiving=d.SchoolSide(code=RECEIVING, kind=d.SchoolKind.VOCATIONAL)
    )
    assert apply(to_vocational).step == 1


def timing_exception(clause: d.TimingClause, student_id: str = "stu-1") -> d.TimingException:
    command = d.RecordTimingException(
        exception_id="exc-1", operator=RB, clause=clause.value, student_id=student_id, receiving_school=RECEIVING,
        reason="随迁", evidence=(CERTIFICATE,),
    )  # fmt: skip
    return record(command, IN_TERM)


def excepted_apply(app: d.TransferApplication, at: datetime, *exceptions: d.TimingException) -> d.TransferCase:
    command = d.ApplyForTransfer(transfer_id="t-1", application=app, operator=RS, exceptions=exceptions)
    state, _ = d.handle(None, command, at, WeekdayCalendar(), fujian_rules())
    assert state is not None
    return state


def test_r27_each_generally_clause_is_excepted_only_by_its_own_exception() -> None:
    winter_break = datetime(2025, 2, 10, 9, 0, tzinfo=CST)
    first_semester = application(grade=1, target_grade=1, term=AUTUMN)
    at_autumn = datetime(2025, 10, 9, tzinfo=CST)
    handling = timing_exception(d.TimingClause.HANDLING_PERIOD)
    first = timing_exception(d.TimingClause.FIRST_GRADE_FIRST_SEMESTER)
    assert excepted_apply(application(), winter_break, handling).exceptions == (handling,)
    assert excepted_apply(first_semester, at_autumn, first).step == 1
    with pytest.raises(d.Refused, match="R27"):
        excepted_apply(first_semester, at_autumn, handling)
    with pytest.raises(d.Refused, match="R27"):
        excepted_apply(application(), winter_break, first)


def test_r27_keeping_the_grade_is_absolute() -> None:
    graduating = application(grade=6, target_grade=5)
    with pytest.raises(d.Refused) as caught:
        excepted_apply(graduating, IN_TERM, timing_exception(d.TimingClause.GRADUATION_GRADE_LAST_SEMESTER))
    assert (caught.value.rule, caught.value.field) == ("R27", "target_grade")
    command = d.RecordTimingException(
        exception_id="exc-2", operator=RB, clause="keeps_grade", student_id="stu-1", receiving_school=RECEIVING,
        reason="x", evidence=(CERTIFICATE,),
    )  # fmt: skip
    with pytest.raises(d.Refused) as absolute:
        record(command, IN_TERM)
    assert (absolute.value.rule, absolute.value.field) == ("R27", "clause") and "no exception" in absolute.value.reason

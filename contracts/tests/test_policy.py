"""Province policy: Fujian reference values, national defaults, windows (R25-R27), reasons (R29), bad files."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from xueji_contracts.calendar import SHANGHAI, national_calendar
from xueji_contracts.messages.transfer import Level
from xueji_contracts.policy import (
    PolicyError,
    SchoolingStage,
    StageSla,
    TransferWindows,
    YearlyWindow,
    calendar_for,
    load_policy,
    packaged_policies,
    parse_policy,
)
from xueji_contracts.policy.materials import NATIONAL_MATERIALS

FJ = load_policy("fj")
HN = load_policy("hn")


def cst(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI)


def test_packaged_policies_load_by_name_code_and_path():
    assert packaged_policies() == ("fj", "hn")
    assert load_policy("35") == FJ and load_policy("43") == HN
    path = Path(__file__).resolve().parents[1] / "src/xueji_contracts/policies/fj.yaml"
    assert load_policy(path) == FJ and load_policy(str(path)) == FJ
    assert (FJ.code, FJ.name_zh, HN.code) == ("35", "福建省", "43")
    with pytest.raises(PolicyError, match="no packaged policy 'zz'"):
        load_policy("zz")


def test_a_policy_file_without_suffix_loads_by_path(tmp_path, monkeypatch):
    (tmp_path / "policy").write_text('code: "43"\nname: Hunan\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert load_policy("policy").code == "43"


def test_r22_r23_fujian_sla_and_escalation_chain():
    assert (FJ.sla.stage_working_days, FJ.sla.warning_lead_working_days) == (10, 2)
    assert FJ.sla.offline_acceptance_working_days == 20
    assert FJ.sla.escalation_chain == (Level.SCHOOL, Level.COUNTY, Level.CITY, Level.PROVINCE)
    assert FJ.sla.next_level(Level.SCHOOL) is Level.COUNTY
    assert FJ.sla.next_level(Level.PROVINCE) is None


def test_national_defaults_apply_where_hunan_is_silent():
    assert HN.sla == StageSla() and HN.windows == TransferWindows()
    assert HN.timing is None and HN.supplementary_number is None
    assert HN.reasons.accepts(SchoolingStage.COMPULSORY, "anything")  # Hunan sets no reason list
    assert (HN.deadlines.status_file_months, HN.deadlines.paper_file_months, HN.deadlines.roster_months) == (1, 1, 1)


def test_r30_hunan_s_checklist_is_the_national_one_of_003_q11():
    assert HN.transfer_materials.required == NATIONAL_MATERIALS
    assert [m.kind for m in HN.transfer_materials.required] == ["status_basic_info", "registration_form"]


def test_r07_r27_r29_r53_the_provincial_only_rules_hunan_leaves_unset_are_named():
    """No national rule stands in for these; the services log them at start (docs/provinces.md)."""
    unset = [entry.split(" ")[0] for entry in HN.unset_provincial_rules()]
    assert unset == ["timing", "reasons.compulsory", "reasons.senior_high", "supplementary_number", "complaints"]
    assert FJ.unset_provincial_rules() == ()


@pytest.mark.parametrize("blackout", ['{start: "07-01", end: "08-14"}', '{start: "07-15", end: "08-31"}'])
def test_r25_the_blackout_is_national_and_a_province_file_cannot_change_it(blackout):
    with pytest.raises(PolicyError, match=r"hn\.yaml: windows\.blackout: .*R25: the blackout is national"):
        parse_policy(f'code: "43"\nname: Hunan\nwindows: {{blackout: {blackout}}}\n', "hn.yaml")
    restated = parse_policy('code: "43"\nname: Hunan\nwindows: {blackout: {start: "07-15", end: "08-14"}}\n')
    assert restated.windows == TransferWindows()


def test_r26_the_progression_windows_are_provincial():
    """003 Q9: on these provincial rules prevail, so a file may set its own."""
    policy = parse_policy('code: "43"\nname: Hunan\nwindows: {progression: [{start: "09-01", end: "11-30"}]}\n')
    assert [(w.start, w.end) for w in policy.windows.progression] == [("09-01", "11-30")]


def test_a_section_may_override_one_field_and_keep_the_other_defaults():
    policy = parse_policy('code: "43"\nname: Hunan\nsla: {stage_working_days: 15}\n')
    assert policy.sla.stage_working_days == 15 and policy.sla.warning_lead_working_days == 2


def test_r02_r32_r54_r40_month_deadlines_and_suspension():
    assert (FJ.deadlines.status_file_months, FJ.deadlines.paper_file_months, FJ.deadlines.roster_months) == (1, 1, 1)
    assert FJ.suspension.period_years == 1 and FJ.suspension.max_extensions == 1
    assert FJ.suspension.max_total_years == 2


@pytest.mark.parametrize(
    ("at", "blocked"),
    [
        (cst(2025, 7, 14, 23, 59, 59), False),
        (cst(2025, 7, 15), True),
        (datetime(2025, 7, 14, 16, 0, tzinfo=UTC), True),  # Jul 14 in UTC, already Jul 15 00:00 in China
        (cst(2025, 8, 14, 23, 59, 59), True),
        (cst(2025, 8, 15), False),
        (cst(2025, 1, 10, 12), False),
    ],
)
def test_r25_national_blackout_jul_15_to_aug_14_china_time(at, blocked):
    assert FJ.in_blackout(at) is blocked
    assert HN.in_blackout(at) is blocked


@pytest.mark.parametrize(
    ("at", "open_"),
    [
        (cst(2025, 8, 14, 23, 59), False),
        (cst(2025, 8, 15), True),
        (cst(2025, 12, 14, 23, 59), True),
        (cst(2025, 12, 15), False),
        (cst(2026, 2, 14, 12), False),  # the English text's Feb 14 is not the rule
        (cst(2026, 3, 1), True),
        (cst(2026, 5, 31, 23, 59), True),
        (cst(2026, 6, 1), False),
    ],
)
def test_r26_post_graduation_progression_windows(at, open_):
    assert FJ.in_progression_window(at) is open_


def test_r26_a_window_may_wrap_past_new_year():
    window = YearlyWindow(start="08-15", end="02-14")
    assert window.contains(cst(2026, 1, 10)) and window.contains(cst(2025, 9, 1))
    assert not window.contains(cst(2026, 3, 1))


def test_r25_naive_datetime_is_rejected():
    with pytest.raises(ValueError, match="at must be a timezone-aware"):
        FJ.in_blackout(datetime(2025, 7, 20))


def test_r27_fujian_timing_closes_first_and_last_semesters():
    timing = FJ.timing
    assert timing is not None and timing.keeps_grade and timing.months_after_semester_start == 1
    assert timing.semester_excluded(first_grade=True, graduation_grade=False, semester=1)
    assert timing.semester_excluded(first_grade=False, graduation_grade=True, semester=2)
    assert not timing.semester_excluded(first_grade=True, graduation_grade=False, semester=2)
    assert not timing.semester_excluded(first_grade=False, graduation_grade=True, semester=1)
    assert not timing.semester_excluded(first_grade=False, graduation_grade=False, semester=2)


def test_r27_handling_period_is_the_semester_or_its_first_month():
    timing = FJ.timing
    assert timing is not None
    start, end = date(2025, 9, 1), date(2026, 1, 23)
    assert timing.in_handling_period(date(2026, 1, 23), start, end)
    assert not timing.in_handling_period(date(2026, 1, 24), start, end)
    month_only = timing.model_copy(update={"before_semester_end": False})
    assert month_only.in_handling_period(date(2025, 9, 30), start, end)
    assert not month_only.in_handling_period(date(2025, 10, 1), start, end)


def test_r29_fujian_reasons_five_compulsory_four_senior_high():
    compulsory, senior = FJ.reasons.compulsory, FJ.reasons.senior_high
    assert len(compulsory) == 5 and len(senior) == 4
    assert all(r.zh and r.en and r.clause for r in (*compulsory, *senior))
    assert [r.clause for r in compulsory] == [f"002 III.1({i})" for i in range(1, 6)]
    assert [r.code for r in compulsory] == [
        "household_move",
        "guardian_relocation",
        "residence_move",
        "guardian_away_or_service",
        "physical_condition",
    ]
    assert [r.code for r in senior] == [
        "household_move",
        "guardian_away_or_service",
        "health_same_city",
        "vocational_talent",
    ]
    assert FJ.reasons.accepts(SchoolingStage.SENIOR_HIGH, "vocational_talent")
    assert not FJ.reasons.accepts(SchoolingStage.COMPULSORY, "vocational_talent")  # senior high only
    assert not FJ.reasons.accepts(SchoolingStage.COMPULSORY, "because")
    found = FJ.reasons.find(SchoolingStage.COMPULSORY, "physical_condition")
    assert found is not None and "特殊教育" in found.zh
    # The same code names the stage's own clause: the compulsory one also covers moves within a county.
    compulsory_move = FJ.reasons.find(SchoolingStage.COMPULSORY, "household_move")
    senior_move = FJ.reasons.find(SchoolingStage.SENIOR_HIGH, "household_move")
    assert compulsory_move is not None and senior_move is not None
    assert "乡镇" in compulsory_move.zh and "乡镇" not in senior_move.zh


def test_r31_policy_notice_and_adjustments_reach_the_calendar():
    policy = parse_policy(
        'code: "35"\nname: Fujian\n'
        "calendar_adjustments: {rest_days: [2024-03-08]}\n"
        "calendar_notices:\n  2027:\n    source: test notice\n    rest_days: [2027-10-01]\n    working_days: [2027-09-26]\n"
    )
    calendar = calendar_for(policy)
    assert calendar.has_notice(2027) and not calendar.is_working_day(date(2027, 10, 1))
    assert not calendar.is_working_day(date(2024, 3, 8))
    assert calendar.version.startswith("cn-2004-2027+35.")
    assert not calendar.stage_deadline(cst(2027, 9, 28, 10), 10, 2).provisional
    assert calendar_for(HN).version == national_calendar().version  # nothing of its own


@pytest.mark.parametrize(
    ("yaml_text", "field"),
    [
        ('code: "35"\nname: F\nsla: {stage_working_days: 0}\n', "sla.stage_working_days"),
        ('code: "35"\nname: F\nsla: {stage_days: 10}\n', "sla.stage_days"),
        ('code: "350"\nname: F\n', "code"),
        ("code: 35\nname: F\n", "code"),
        ('code: "35"\n', "name"),
        ('code: "35"\nname: F\nsla: {stage_working_days: 2, warning_lead_working_days: 2}\n', "warning_lead"),
        ('code: "35"\nname: F\nsla: {escalation_chain: [county, school]}\n', "sla.escalation_chain"),
        ('code: "35"\nname: F\nwindows: {blackout: {start: "02-30", end: "03-01"}}\n', "windows.blackout.start"),
        ('code: "35"\nname: F\ncalendar_notices: {2027: {rest_days: [2026-10-01]}}\n', "calendar_notices"),
        (
            'code: "35"\nname: F\nreasons: {compulsory: [{code: Bad Code, zh: 甲, en: a}]}\n',
            "reasons.compulsory.0.code",
        ),
        ('code: "35"\nname: F\ntiming: {excluded_semesters: [every_semester]}\n', "timing.excluded_semesters"),
    ],
)
def test_bad_policy_file_names_the_field(yaml_text, field):
    with pytest.raises(PolicyError, match=rf"bad\.yaml: .*{field}"):
        parse_policy(yaml_text, "bad.yaml")


def test_r29_duplicate_reason_codes_are_refused():
    text = 'code: "35"\nname: F\nreasons:\n  senior_high: [{code: same, zh: 甲, en: a}, {code: same, zh: 乙, en: b}]\n'
    with pytest.raises(PolicyError, match="reasons: .*senior_high reason codes must be unique, repeated: same"):
        parse_policy(text)


def test_unreadable_policy_files_are_clear_errors(tmp_path):
    with pytest.raises(PolicyError, match="not valid YAML"):
        parse_policy("code: [", "x.yaml")
    with pytest.raises(PolicyError, match="mapping"):
        parse_policy("- 35\n", "x.yaml")
    path = tmp_path / "policy.yaml"
    path.write_text('code: "35"\nname: F\nsuspension: {period_years: 0}\n', encoding="utf-8")
    with pytest.raises(PolicyError, match=r"policy\.yaml: suspension\.period_years"):
        load_policy(path)


def test_r01_r14_duplicate_check_weights_and_review_threshold_come_from_the_province_policy():
    """R14 rewritten: no refusal threshold (only the same ID refuses); weights and the review threshold in bits."""
    check = FJ.duplicate_check
    assert (check.review_threshold_bits, check.prior_log2_odds, check.weights.guardian_same) == (-0.25, -21.0, 8.0)
    assert 0.45 < check.review_probability < 0.47
    stricter = parse_policy('code: "43"\nname: Hunan\nduplicate_check: {review_threshold_bits: 1.75}\n')
    assert stricter.duplicate_check.review_threshold_bits == 1.75
    with pytest.raises(PolicyError, match=r"duplicate_check\.duplicate_threshold"):
        parse_policy('code: "43"\nname: Hunan\nduplicate_check: {duplicate_threshold: 0.98}\n')
    with pytest.raises(PolicyError, match=r"odd multiple of 0.25"):
        parse_policy('code: "43"\nname: Hunan\nduplicate_check: {review_threshold_bits: 0}\n')
    with pytest.raises(PolicyError, match=r"whole or half bits"):
        parse_policy('code: "43"\nname: Hunan\nduplicate_check: {weights: {guardian_same: 7.3}}\n')

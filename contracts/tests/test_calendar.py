"""The working-day calendar (R31): official holidays and make-up days, notices, provincial adjustments, data."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xueji_contracts.calendar import CalendarDays, WorkingDayCalendar, load_calendar, national_calendar, parse_national
from xueji_contracts.calendar.days import read_national

ROOT = Path(__file__).resolve().parents[2]
CAL = national_calendar()
# The packaged notices up to 2026's: a calendar without a 2027 notice, for the examples of loading one, whether or
# not the packaged data has been regenerated with the State Council's 2027 notice since.
UP_TO_2026 = WorkingDayCalendar({year: days for year, days in read_national().items() if year <= 2026})


def d(text: str) -> date:
    return date.fromisoformat(text)


@pytest.mark.parametrize(
    ("make_up_days", "rest_weekdays"),
    [
        # 2024: Feb 10-17 off; Sun Feb 4 and Sun Feb 18 worked.
        (["2024-02-04", "2024-02-18"], ["2024-02-12", "2024-02-13", "2024-02-14", "2024-02-15", "2024-02-16"]),
        # 2025: Jan 28 - Feb 4 off; Sun Jan 26 and Sat Feb 8 worked.
        (
            ["2025-01-26", "2025-02-08"],
            ["2025-01-28", "2025-01-29", "2025-01-30", "2025-01-31", "2025-02-03", "2025-02-04"],
        ),
        # 2026: Feb 15-23 off (nine days); Sat Feb 14 and Sat Feb 28 worked.
        (
            ["2026-02-14", "2026-02-28"],
            ["2026-02-16", "2026-02-17", "2026-02-18", "2026-02-19", "2026-02-20", "2026-02-23"],
        ),
    ],
    ids=["2024", "2025", "2026"],
)
def test_r31_spring_festival_rest_and_make_up_days(make_up_days, rest_weekdays):
    for day in make_up_days:
        assert d(day).weekday() >= 5 and CAL.is_working_day(d(day)), day
    for day in rest_weekdays:
        assert d(day).weekday() < 5 and not CAL.is_working_day(d(day)), day
    assert CAL.holiday_name(d(rest_weekdays[0])) == "Spring Festival"


@pytest.mark.parametrize(
    ("make_up_days", "first_rest", "last_rest"),
    [
        (["2024-09-29", "2024-10-12"], "2024-10-01", "2024-10-07"),  # Sun and Sat worked
        (["2025-09-28", "2025-10-11"], "2025-10-01", "2025-10-08"),  # with Mid-autumn: 8 days
    ],
    ids=["2024", "2025"],
)
def test_r31_national_day_golden_week(make_up_days, first_rest, last_rest):
    for day in make_up_days:
        assert CAL.is_working_day(d(day)), day
    day = d(first_rest)
    while day <= d(last_rest):
        assert not CAL.is_working_day(day), day
        day += timedelta(days=1)
    assert CAL.is_working_day(day)  # the day after the week is back to work


def test_r31_ordinary_weekends_and_weekdays():
    assert CAL.is_working_day(d("2024-03-04"))  # Monday
    assert not CAL.is_working_day(d("2024-03-09"))  # Saturday
    assert CAL.holiday_name(d("2024-03-04")) is None


def test_r31_add_working_days_crosses_the_golden_week():
    # Fri Sep 27 2024: Sun 29 (1), Mon 30 (2), Oct 1-7 off, Tue Oct 8 (3).
    assert CAL.add_working_days(d("2024-09-27"), 3) == d("2024-10-08")
    assert CAL.add_working_days(d("2024-10-08"), -3) == d("2024-09-27")
    assert CAL.add_working_days(d("2024-10-05"), 0) == d("2024-10-05")


def test_r31_working_days_between_counts_after_a_up_to_b():
    assert CAL.working_days_between(d("2024-09-27"), d("2024-10-08")) == 3
    assert CAL.working_days_between(d("2024-10-08"), d("2024-09-27")) == -3
    assert CAL.working_days_between(d("2024-10-01"), d("2024-10-07")) == 0
    assert CAL.working_days_between(d("2024-10-08"), d("2024-10-08")) == 0
    assert CAL.working_days_between(d("2024-12-30"), d("2025-01-02")) == 2  # Dec 31, Jan 2 (Jan 1 off)


def test_r31_long_spans_jump_years():
    far = CAL.add_working_days(d("2004-01-01"), 5000)
    assert CAL.working_days_between(d("2004-01-01"), far) == 5000
    assert far == _walk(CAL, d("2004-01-01"), 5000)
    # Back 5000 lands on the last working day on or before Jan 1 2004 (a holiday): Wed Dec 31 2003.
    assert CAL.add_working_days(far, -5000) == d("2003-12-31")


def _walk(calendar: WorkingDayCalendar, start: date, n: int) -> date:
    """Day-by-day oracle for add_working_days."""
    day, left = start, n
    while left:
        day += timedelta(days=1)
        left -= calendar.is_working_day(day)
    return day


@settings(deadline=None)  # the first example fills the per-year cache
@given(start=st.dates(min_value=date(2003, 1, 1), max_value=date(2028, 12, 31)), n=st.integers(1, 400))
def test_r31_property_add_working_days_lands_on_the_nth_working_day(start, n):
    result = CAL.add_working_days(start, n)
    assert CAL.is_working_day(result)
    assert CAL.working_days_between(start, result) == n
    assert result == _walk(CAL, start, n)
    back = CAL.add_working_days(result, -n)  # the last working day on or before start
    assert back <= start and CAL.is_working_day(back) and CAL.working_days_between(back, start) == 0


def test_r31_year_without_notice_is_weekday_only():
    last = CAL.notice_years[-1]
    assert CAL.notice_years == tuple(range(2004, last + 1)) and last >= 2026  # every year's notice since 2004
    first, after = date(last + 1, 1, 1), date(last + 2, 1, 1)
    unloaded = [first + timedelta(days=n) for n in range((after - first).days)]  # the year after the last notice
    assert [day for day in unloaded if CAL.is_working_day(day) != (day.weekday() < 5)] == []
    assert not UP_TO_2026.is_working_day(d("2027-01-02"))  # Saturday
    assert UP_TO_2026.is_working_day(d("2027-10-01"))  # a weekday: no notice says otherwise yet


def test_r31_with_notice_returns_a_new_calendar():
    before = UP_TO_2026
    notice = before.with_notice(2027, [d("2027-10-01"), d("2027-10-04")], [d("2027-09-26")], source="test notice")
    assert notice.has_notice(2027) and not before.has_notice(2027)
    assert not notice.is_working_day(d("2027-10-01")) and notice.is_working_day(d("2027-09-26"))
    assert notice.version != before.version and notice.version.startswith("cn-2004-2027.")
    assert before.version.startswith("cn-2004-2026.")
    assert CAL.version.startswith(f"cn-2004-{CAL.notice_years[-1]}.")


def test_r31_notice_rejects_days_of_another_year_or_both_kinds():
    with pytest.raises(ValueError, match="another year"):
        CAL.with_notice(2027, [d("2026-12-31")], [])
    with pytest.raises(ValueError, match="both rest and working"):
        CAL.with_notice(2027, [d("2027-10-01")], [d("2027-10-01")])


def test_r31_provincial_adjustment_overrides_the_national_days():
    extra = CalendarDays(rest_days=frozenset({d("2024-03-08")}), working_days=frozenset({d("2024-10-07")}))
    fj = CAL.with_adjustment("35", extra)
    assert not fj.is_working_day(d("2024-03-08")) and CAL.is_working_day(d("2024-03-08"))
    assert fj.is_working_day(d("2024-10-07")) and not CAL.is_working_day(d("2024-10-07"))
    assert "+35." in fj.version and fj.version != CAL.version
    assert not fj.has_notice(CAL.notice_years[-1] + 1)  # an adjustment is no notice
    with pytest.raises(ValueError, match="province"):
        CAL.with_adjustment("350", extra)


def test_r31_version_is_a_function_of_the_data():
    assert load_calendar(ROOT / "contracts/src/xueji_contracts/data/calendar_cn.json").version == CAL.version
    assert CAL.with_notice(2027, [], []).version == CAL.with_notice(2027, [], [], source="other").version
    assert WorkingDayCalendar({}).version.startswith("cn-none.")


def test_r31_bad_calendar_document_is_a_clear_error():
    with pytest.raises(ValueError, match="invalid calendar document"):
        parse_national('{"years": {"2027": {"rest_days": [{"date": "2026-10-01"}]}}}')
    with pytest.raises(ValueError, match="invalid calendar document"):
        parse_national("[]")


def test_r31_packaged_json_matches_its_generator():
    pytest.importorskip("chinese_calendar")
    spec = importlib.util.spec_from_file_location("gen_calendar", ROOT / "scripts" / "gen_calendar.py")
    assert spec is not None and spec.loader is not None
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    assert generator.OUT.read_text(encoding="utf-8") == generator.render(), "run scripts/gen_calendar.py"
    document = json.loads(generator.render())
    years = sorted(map(int, document["years"]))  # up to the last notice the package transcribes: 2026's or later
    assert years == list(range(2004, years[-1] + 1)) and years[-1] >= 2026
    assert document["generated_with"].startswith("chinesecalendar ")


def test_r31_runtime_never_imports_chinese_calendar():
    code = (
        "import sys, xueji_contracts.calendar as c, xueji_contracts.policy as p;"
        "c.national_calendar(); p.calendar_for(p.load_policy('fj'));"
        "assert 'chinese_calendar' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)

"""Stage SLA deadlines (R22, R23, R31) and month periods (R02, R32, R54) in China time, stored in UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from xueji_contracts.calendar import SHANGHAI, WorkingDayCalendar, add_months, national_calendar
from xueji_contracts.calendar.days import read_national

CAL = national_calendar()


def cst(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def end_of(day: str) -> datetime:
    """24:00 China time at the end of `day`, in UTC (16:00 UTC that day)."""
    return datetime.fromisoformat(day).replace(hour=16, tzinfo=UTC)


def test_r22_ten_working_days_due_and_warning_two_days_before():
    # Opened Mon Mar 4 2024: day 1 is Tue Mar 5, day 10 is Mon Mar 18; day 8 is Thu Mar 14.
    deadline = CAL.stage_deadline(cst(2024, 3, 4, 10, 0), 10, 2)
    assert deadline.due_at == end_of("2024-03-18")
    assert deadline.warn_at == end_of("2024-03-14")
    assert CAL.working_days_between(date(2024, 3, 14), date(2024, 3, 18)) == 2  # two whole days left
    assert deadline.opened_at == datetime(2024, 3, 4, 2, 0, tzinfo=UTC)
    assert deadline.due_at.tzinfo is UTC and deadline.warn_at.tzinfo is UTC
    assert not deadline.provisional and deadline.calendar_version == CAL.version


def test_r31_stage_deadline_skips_national_day():
    # Fri Sep 27 2024: Sun 29 (1), Mon 30 (2), Oct 8-11 (3-6), Sat Oct 12 (7), Oct 14-16 (8-10).
    deadline = CAL.stage_deadline(cst(2024, 9, 27, 18, 0), 10, 2)
    assert deadline.due_at == end_of("2024-10-16")
    assert deadline.warn_at == end_of("2024-10-14")


def test_r31_stage_deadline_skips_spring_festival_2024():
    # Thu Feb 8 2024: Fri Feb 9 (1), Sun Feb 18 (2), Feb 19-23 (3-7), Feb 26-28 (8-10).
    deadline = CAL.stage_deadline(cst(2024, 2, 8, 9, 30), 10, 2)
    assert deadline.due_at == end_of("2024-02-28")
    assert deadline.warn_at == end_of("2024-02-26")


def test_r31_opening_day_is_the_china_date_not_the_utc_date():
    # Thu 17:30 UTC is Fri 01:30 in Shanghai: the stage opened on Friday, day 1 is Monday.
    thursday_utc = CAL.stage_deadline(datetime(2024, 3, 14, 17, 30, tzinfo=UTC), 10, 2)
    friday_evening = CAL.stage_deadline(cst(2024, 3, 15, 20, 0), 10, 2)
    thursday_cst = CAL.stage_deadline(datetime(2024, 3, 14, 9, 0, tzinfo=UTC), 10, 2)  # Thu 17:00 CST
    assert thursday_utc.due_at == friday_evening.due_at == end_of("2024-03-29")
    assert thursday_cst.due_at == end_of("2024-03-28")


def test_r31_opened_on_a_holiday_counts_from_the_next_working_day():
    deadline = CAL.stage_deadline(cst(2024, 10, 3, 11, 0), 1, 0)
    assert deadline.due_at == deadline.warn_at == end_of("2024-10-08")


def test_r31_year_without_notice_is_provisional():
    unloaded = CAL.notice_years[-1] + 1  # the first year the packaged data has no notice for
    assert CAL.stage_deadline(cst(unloaded, 3, 1, 9, 0), 10, 2).provisional
    assert CAL.stage_deadline(cst(unloaded - 1, 12, 24, 9, 0), 10, 2).provisional  # runs into it
    assert not CAL.stage_deadline(cst(unloaded - 1, 12, 1, 9, 0), 10, 2).provisional


def test_r31_loading_the_2027_notice_recomputes_the_deadline():
    # The packaged notices up to 2026's, whether or not the data has been regenerated with 2027's since.
    before = WorkingDayCalendar({year: days for year, days in read_national().items() if year <= 2026})
    opened = cst(2027, 9, 28, 10, 0)  # Tuesday
    provisional = before.stage_deadline(opened, 10, 2)
    assert provisional.provisional and provisional.due_at == end_of("2027-10-12")  # weekday-only
    # An illustrative Golden Week notice: Oct 1-7 off, Sun Sep 26 and Sat Oct 9 worked.
    rest = [date(2027, 10, day) for day in (1, 4, 5, 6, 7)]
    loaded = before.with_notice(2027, rest, [date(2027, 9, 26), date(2027, 10, 9)], source="2027 notice")
    final = loaded.stage_deadline(opened, 10, 2)
    # Sep 29-30 (1-2), Oct 8 (3), Sat Oct 9 (4), Oct 11-15 (5-9), Oct 18 (10).
    assert not final.provisional and final.due_at == end_of("2027-10-18")
    assert final.calendar_version == loaded.version != provisional.calendar_version


def test_r23_offline_acceptance_timeout_is_twenty_working_days():
    # The receiving bureau verified on Mon Mar 4 2024: four whole weeks (Mar 5-29) and Mon Apr 1.
    deadline = CAL.stage_deadline(cst(2024, 3, 4, 15, 0), 20, 0)
    assert deadline.due_at == end_of("2024-04-01")
    assert CAL.working_days_between(date(2024, 3, 4), date(2024, 4, 1)) == 20


def test_r31_naive_datetime_is_rejected_naming_the_argument():
    naive = datetime(2024, 3, 4, 10, 0)
    with pytest.raises(ValueError, match="opened_at must be a timezone-aware"):
        CAL.stage_deadline(naive, 10, 2)
    with pytest.raises(ValueError, match="start must be a timezone-aware"):
        CAL.month_deadline(naive, 1)


@pytest.mark.parametrize(("working_days", "lead"), [(0, 0), (10, 10), (10, -1)])
def test_r22_impossible_sla_is_rejected(working_days, lead):
    with pytest.raises(ValueError, match="working_days|warning_lead"):
        CAL.stage_deadline(cst(2024, 3, 4, 10, 0), working_days, lead)


def test_r32_paper_file_month_ending_on_national_day_moves_to_next_working_day():
    # Completed Sun Sep 1 2024: the month ends on Oct 1, a holiday, so on Tue Oct 8.
    assert CAL.month_deadline(cst(2024, 9, 1, 16, 0), 1) == end_of("2024-10-08")


def test_r02_status_file_month_from_jan_31_ends_on_the_last_day_of_february():
    assert CAL.month_deadline(cst(2024, 1, 31, 9, 0), 1) == end_of("2024-02-29")  # Thursday
    assert add_months(date(2023, 1, 31), 1) == date(2023, 2, 28)
    assert add_months(date(2024, 11, 30), 3) == date(2025, 2, 28)


def test_r54_roster_month_after_school_year_start():
    # School year starts Mon Sep 2 2024: due Wed Oct 2 is a holiday, so Tue Oct 8.
    assert CAL.month_deadline(cst(2024, 9, 2, 8, 0), 1) == end_of("2024-10-08")
    # Spring semester Mon Mar 3 2025: Thu Apr 3 is a working day (Qingming is Fri Apr 4).
    assert CAL.month_deadline(cst(2025, 3, 3, 8, 0), 1) == end_of("2025-04-03")

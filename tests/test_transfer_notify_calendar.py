"""R31 across services: a holiday notice loaded through transfer's administration API reaches notify on
calendar.notice.v1, so notify's working days left count with the calendar version transfer's deadlines are computed
with (before, notify never saw it and counted weekdays only for that year)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from xueji_notify.app import create_app as create_notify
from xueji_notify.calendar_source import province_calendar
from xueji_notify.domain.calendar import add_working_days, working_days_left
from xueji_notify.settings import NotifySettings
from xueji_transfer.app import create_app as create_transfer
from xueji_transfer.settings import TransferSettings

pytestmark = pytest.mark.integration


async def test_r31_a_notice_loaded_through_transfer_is_counted_by_notify_with_the_same_calendar(
    start_app, token, wait_for
):
    notify = await start_app(create_notify, NotifySettings)
    transfer = await start_app(create_transfer, TransferSettings, scheduler_enabled=False)
    province = {"Authorization": f"Bearer {token('province', '350000')}"}
    counted = notify.app.state.notify.calendar
    # The first year the calendar has no notice for, and the first weekday of its January as the test notice's
    # holiday: taken from the calendar, not written in, so a packaged calendar regenerated with next year's State
    # Council notice moves the test to the year after it.
    year = max(counted.calendar.notice_years) + 1
    assert not transfer.app.state.transfer.calendars.current.has_notice(year)
    holiday = next(d for d in (date(year, 1, n) for n in range(1, 8)) if d.weekday() < 5)
    eve, next_day = holiday - timedelta(days=1), add_working_days(counted.calendar, holiday, 1)
    notice = {"year": year, "rest_days": [str(holiday)], "names": {str(holiday): "元旦"}, "source": "test notice"}
    assert counted.calendar.is_working_day(holiday) and counted.is_provisional(holiday)
    assert working_days_left(counted.calendar, eve, next_day) == 2  # the holiday-to-be and the working day after

    loaded = await transfer.post("/v1/admin/calendar/notices", json=notice, headers=province)
    assert loaded.status_code == 200, loaded.text
    version = loaded.json()["calendar_version"]
    assert version != counted.version

    await wait_for(lambda: counted.version == version)
    assert not counted.calendar.is_working_day(holiday) and not counted.is_provisional(holiday)
    assert working_days_left(counted.calendar, eve, next_day) == 1  # the working day after only
    summary = await notify.get("/v1/dashboard/summary", headers=province)
    assert summary.status_code == 200 and summary.json()["calendar"]["version"] == version
    # Another notify replica (or a restart) reads the notice from notify's own store.
    from xueji_notify.calendar_notices import CalendarNotices

    other = province_calendar(notify.app.state.notify.settings)
    await CalendarNotices(notify.app.state.notify.runtime.db, other).refresh()
    assert other.version == version
    # Loading the same notice again announces nothing new and changes nothing.
    again = await transfer.post("/v1/admin/calendar/notices", json=notice, headers=province)
    assert again.status_code == 200 and again.json()["calendar_version"] == version
    history = await transfer.app.state.transfer.runtime.events.load(f"calendar:{year}")
    assert len(history) == 1

"""R31 across services: a holiday notice loaded through transfer's administration API reaches notify on
calendar.notice.v1, so notify's working days left count with the calendar version transfer's deadlines are computed
with (before, notify never saw it and counted weekdays only for that year)."""

from __future__ import annotations

from datetime import date

import pytest

from xueji_notify.app import create_app as create_notify
from xueji_notify.calendar_source import province_calendar
from xueji_notify.domain.calendar import working_days_left
from xueji_notify.settings import NotifySettings
from xueji_transfer.app import create_app as create_transfer
from xueji_transfer.settings import TransferSettings

pytestmark = pytest.mark.integration
NEW_YEAR = date(2027, 1, 1)  # a Friday; the packaged calendar has no 2027 notice
NOTICE = {"year": 2027, "rest_days": ["2027-01-01"], "names": {"2027-01-01": "元旦"}, "source": "test notice"}


async def test_r31_a_notice_loaded_through_transfer_is_counted_by_notify_with_the_same_calendar(
    start_app, token, wait_for
):
    notify = await start_app(create_notify, NotifySettings)
    transfer = await start_app(create_transfer, TransferSettings, scheduler_enabled=False)
    province = {"Authorization": f"Bearer {token('province', '350000')}"}
    counted = notify.app.state.notify.calendar
    assert counted.calendar.is_working_day(NEW_YEAR) and counted.is_provisional(NEW_YEAR)
    assert working_days_left(counted.calendar, date(2026, 12, 31), date(2027, 1, 4)) == 2  # Friday, Monday

    loaded = await transfer.post("/v1/admin/calendar/notices", json=NOTICE, headers=province)
    assert loaded.status_code == 200, loaded.text
    version = loaded.json()["calendar_version"]
    assert version != counted.version

    await wait_for(lambda: counted.version == version)
    assert not counted.calendar.is_working_day(NEW_YEAR) and not counted.is_provisional(NEW_YEAR)
    assert working_days_left(counted.calendar, date(2026, 12, 31), date(2027, 1, 4)) == 1  # Monday only
    summary = await notify.get("/v1/dashboard/summary", headers=province)
    assert summary.status_code == 200 and summary.json()["calendar"]["version"] == version
    # Another notify replica (or a restart) reads the notice from notify's own store.
    from xueji_notify.calendar_notices import CalendarNotices

    other = province_calendar(notify.app.state.notify.settings)
    await CalendarNotices(notify.app.state.notify.runtime.db, other).refresh()
    assert other.version == version
    # Loading the same notice again announces nothing new and changes nothing.
    again = await transfer.post("/v1/admin/calendar/notices", json=NOTICE, headers=province)
    assert again.status_code == 200 and again.json()["calendar_version"] == version
    history = await transfer.app.state.transfer.runtime.events.load("calendar:2027")
    assert len(history) == 1

"""Calendar notices (R31) loaded on two replicas at once: the first store of a year's notice may race, and neither
replica may fail on it (the store refuses the second insert with a duplicate key). A stored notice is announced on
calendar.notice.v1 (for notify) even when the process stopped between storing and announcing it."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest
from kafka_messages import published

from xueji_transfer.app import create_app
from xueji_transfer.calendar_source import CalendarNotice, CalendarSource
from xueji_transfer.settings import TransferSettings

pytestmark = pytest.mark.integration
YEARS = range(2030, 2080)  # many first stores: on the local store some collide every time


async def test_r31_two_replicas_loading_the_same_notices_at_once_both_succeed(database) -> None:
    replicas = [CalendarSource(database, TransferSettings()) for _ in range(2)]
    notices = [CalendarNotice(year=year, rest_days=(date(year, 10, 8),)) for year in YEARS]
    await asyncio.gather(*(replica.load_notice(notice) for notice in notices for replica in replicas))
    for replica in replicas:
        await replica.refresh()
        assert all(not replica.current.is_working_day(date(year, 10, 8)) for year in YEARS)
    assert await database["calendar_notices"].count_documents({}) == len(YEARS)


async def test_r31_a_notice_stored_but_never_announced_is_announced_when_transfer_starts(
    database, start_app, isolation
) -> None:
    notice = CalendarNotice(year=2031, rest_days=(date(2031, 1, 1),), names={date(2031, 1, 1): "元旦"})
    await CalendarSource(database, TransferSettings()).load_notice(notice)  # stored; the process died before announcing
    await start_app(create_app, TransferSettings, mongodb_database=database.name, scheduler_enabled=False)
    topic = isolation.topic("calendar.notice.v1")
    (announced,) = await published(isolation.servers.kafka, topic, lambda found: len(found) >= 1)
    assert announced["type"] == "CalendarNoticeLoaded"
    assert (announced["payload"]["year"], announced["payload"]["rest_days"]) == (2031, ["2031-01-01"])

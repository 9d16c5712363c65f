"""calendar.notice.v1 -> the holiday notice transfer loaded, so working days left count as transfer counts (R31)."""

from __future__ import annotations

from faststream import Context

from xueji_contracts.envelope import Envelope
from xueji_contracts.messages.calendar import CalendarNoticeLoaded
from xueji_notify.calendar_notices import CalendarNotices


async def on_calendar_notice(
    message: Envelope[CalendarNoticeLoaded],
    notices: CalendarNotices = Context("calendar_notices"),
) -> None:
    await notices.record(message.payload)

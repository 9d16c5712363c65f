"""Holiday notices loaded at run time (R31), as transfer announced them: kept in notify's own store, applied to the
province's base calendar in every replica."""

# One replica consumes each message (a consumer group) and stores the notice by year; every replica re-reads the
# stored notices every `interval` seconds (and at start), as transfer's replicas do theirs. A version that differs
# from the producer's means the two services start from different policy or calendar files: said, not hidden.

from __future__ import annotations

from datetime import date

import structlog
from pymongo.asynchronous.database import AsyncDatabase

from xueji_contracts.messages.calendar import CalendarNoticeLoaded
from xueji_kit.background import keep_running
from xueji_kit.store import Document, replace_by_id
from xueji_notify.calendar_source import ProvinceCalendar

log = structlog.get_logger("notify.calendar")


class CalendarNotices:
    def __init__(self, db: AsyncDatabase[Document], province: ProvinceCalendar) -> None:
        self._notices = db["calendar_notices"]
        self.province = province

    async def record(self, notice: CalendarNoticeLoaded) -> None:
        """Keep `notice` (replacing an earlier one for its year) and count with it from now on."""
        if self.province.base is None:
            log.warning("calendar_notice_not_applied", year=notice.year, reason="no base calendar")
            return
        await replace_by_id(self._notices, {"_id": notice.year, "notice": notice.model_dump(mode="json")})
        await self.refresh()
        here, producer = self.province.version, notice.calendar_version
        if here != producer:
            log.warning("calendar_version_differs", year=notice.year, here=here, producer=producer)

    async def refresh(self) -> None:
        calendar = self.province.base
        if calendar is None:
            return
        async for doc in self._notices.find({}):
            n = doc["notice"]
            calendar = calendar.with_notice(
                int(n["year"]),
                [date.fromisoformat(d) for d in n["rest_days"]],
                [date.fromisoformat(d) for d in n["working_days"]],
                names={date.fromisoformat(d): name for d, name in n["names"].items()},
                source=n.get("source"),
            )
        self.province.use(calendar)

    async def run_forever(self, interval: float = 60.0) -> None:
        """Other replicas pick up a notice stored by one of them within `interval` seconds."""
        await keep_running(self.refresh, every=interval, log=log, failed="calendar_refresh_failed")

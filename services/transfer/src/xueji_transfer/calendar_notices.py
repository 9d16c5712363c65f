"""A year's holiday notice loaded here goes out on calendar.notice.v1, so notify counts with the same calendar (R31)."""

# Through the case store's outbox, as every message of this service: stored as a commit, published by the relay, at
# least once. One stream per year (`calendar:<year>`), whose last entry is the notice last announced: posting the same
# notice again (a retried request, a second replica, a restart) publishes nothing new, and a corrected notice for the
# year (or a return to an earlier one) is a new message that replaces the old one on the compacted topic.

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from xueji_contracts.calendar import WorkingDayCalendar
from xueji_contracts.envelope import derive_id, envelop
from xueji_contracts.messages.calendar import CalendarNoticeLoaded
from xueji_contracts.topics import CALENDAR_NOTICE
from xueji_kit.aggregates import Decision, decide_and_save
from xueji_kit.outbox_entries import Outgoing
from xueji_kit.runtime import ServiceRuntime
from xueji_kit.store import Document
from xueji_transfer.calendar_source import CalendarNotice, CalendarSource

PREFIX = "calendar:"
LOADED_EARLIER = "transfer"  # who loaded a notice stored before notices were announced is not recorded


class NoticeAnnouncer:
    def __init__(self, runtime: ServiceRuntime, calendars: CalendarSource) -> None:
        self.runtime = runtime
        self.calendars = calendars
        self.province = runtime.settings.province

    async def announce_stored(self) -> None:
        """At start: every stored notice, so one loaded before a crash between storing and announcing it (or before
        notices were announced at all) reaches notify too. Each already announced is a no-op."""
        for notice in await self.calendars.stored():
            await self.announce(notice, self.calendars.current, LOADED_EARLIER, datetime.now(UTC))

    async def announce(
        self, notice: CalendarNotice, calendar: WorkingDayCalendar, operator: str, now: datetime
    ) -> CalendarNoticeLoaded | None:
        """Publish `notice`, just loaded into `calendar`, unless it is what was last announced for its year."""
        content = notice.model_dump(mode="json")
        payload = CalendarNoticeLoaded(
            **notice.model_dump(), calendar_version=calendar.version, loaded_by=operator, loaded_at=now
        )
        commit_id = str(uuid.uuid4())  # one per announcement; the stream's head decides whether there is one
        message = envelop(
            payload, producer="transfer", province=self.province, occurred_at=now,
            message_id=derive_id(commit_id, "notice"),
        )  # fmt: skip
        out = [Outgoing(CALENDAR_NOTICE.name, str(notice.year), message)]
        entry = {"type": "calendar_notice_loaded", "notice": content, "payload": payload.model_dump(mode="json")}

        def decide(history: list[Document]) -> Decision:
            if history and history[-1].get("notice") == content:
                return Decision()  # announced already (a retried request, another replica, a restart)
            return Decision([entry], out)

        saved = await decide_and_save(self.runtime.events, f"{PREFIX}{notice.year}", commit_id, decide)
        if not saved.stored:
            return None
        self.runtime.relay.nudge()
        return payload

"""The province's rules and working-day calendar (R22, R31): policy file, calendar file, notices loaded at run time."""

from __future__ import annotations

from datetime import date
from typing import Self

import structlog
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pymongo.asynchronous.database import AsyncDatabase

from xueji_contracts.calendar import WorkingDayCalendar, load_calendar
from xueji_contracts.policy import calendar_for, load_policy
from xueji_kit.background import keep_running
from xueji_kit.store import Document, replace_by_id
from xueji_transfer.domain import TransferRules
from xueji_transfer.domain.calendar import DeadlineCalendar
from xueji_transfer.seconds_calendar import SecondsCalendar
from xueji_transfer.settings import TransferSettings

log = structlog.get_logger("transfer.calendar")


class CalendarNotice(BaseModel):
    """One year's State Council notice: rest days (holidays) and make-up working days."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    year: int = Field(ge=2004, le=2100)
    rest_days: tuple[date, ...] = ()
    working_days: tuple[date, ...] = ()
    names: dict[date, str] = Field(default_factory=dict, description="holiday names, e.g. 元旦")
    source: str | None = Field(default=None, max_length=500, description="where the notice was published")

    @model_validator(mode="after")
    def _days_in_year(self) -> Self:
        for name in ("rest_days", "working_days"):
            if any(day.year != self.year for day in getattr(self, name)):
                raise ValueError(f"{name}: every day must lie in {self.year}")
        if set(self.rest_days) & set(self.working_days):
            raise ValueError("working_days: a day cannot be both a rest day and a working day")
        return self


class CalendarSource:
    """The rules never change while running; the calendar does when a notice is loaded (kept in MongoDB,
    so every replica and every restart sees the same one)."""

    def __init__(self, db: AsyncDatabase[Document], settings: TransferSettings) -> None:
        policy = load_policy(settings.policy_file or settings.province)
        self.policy = policy  # R53: the complaint channels the dispute route returns
        self.rules = TransferRules.from_policy(policy)
        if unset := policy.unset_provincial_rules():  # said once at start: nothing is refused under these
            log.warning("policy_provincial_rules_unset", province=policy.code, unset=list(unset))
        national = load_calendar(settings.calendar_file) if settings.calendar_file else None
        self._base = calendar_for(policy, national)
        self.current: WorkingDayCalendar = self._base
        self._notices = db["calendar_notices"]
        self._test_day = settings.test_working_day_seconds

    @property
    def deadlines(self) -> DeadlineCalendar:
        """What the domain counts deadlines with: the working-day calendar (a test's seconds-long working days only
        when XUEJI_TEST_WORKING_DAY_SECONDS is set, which production never does)."""
        return SecondsCalendar(self.current, self._test_day) if self._test_day else self.current

    async def stored(self) -> list[CalendarNotice]:
        """The notices loaded at run time, by year."""
        return sorted(
            [CalendarNotice.model_validate(doc["notice"]) async for doc in self._notices.find({})], key=lambda n: n.year
        )

    async def refresh(self) -> None:
        calendar = self._base
        for notice in await self.stored():
            calendar = calendar.with_notice(
                notice.year, notice.rest_days, notice.working_days, names=notice.names, source=notice.source
            )
        if calendar.version != self.current.version:
            log.info("calendar_loaded", version=calendar.version)
        self.current = calendar

    async def load_notice(self, notice: CalendarNotice) -> WorkingDayCalendar:
        """Store a year's notice (replacing an earlier one for that year) and use it from now on."""
        doc = {"_id": notice.year, "notice": notice.model_dump(mode="json")}
        await replace_by_id(self._notices, doc)  # two replicas may load the same year at once
        await self.refresh()
        return self.current

    async def run_forever(self, interval: float = 60.0) -> None:
        """Other replicas pick up a notice loaded on one of them within `interval` seconds."""
        # A failed refresh keeps the calendar we have; the store may be back next time.
        await keep_running(self.refresh, every=interval, log=log, failed="calendar_refresh_failed")

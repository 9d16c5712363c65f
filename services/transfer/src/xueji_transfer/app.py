"""Transfer wiring (uvicorn xueji_transfer.app:create_app --factory): runtime, consumers, timers, routes."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import structlog
from fastapi import FastAPI

from xueji_contracts.messages import transfer as c
from xueji_contracts.messages.calendar import CalendarNoticeLoaded
from xueji_contracts.messages.exceptions import RuleExceptionRecorded
from xueji_contracts.schools import load_school_names
from xueji_contracts.topics import (
    CALENDAR_NOTICE,
    INTERPROVINCE_TRANSFER,
    RULE_EXCEPTION,
    STUDENT_STATUS,
    TRANSFER_CASE,
    TRANSFER_DECISION,
    TRANSFER_SLA,
    TRANSFER_STAGE,
)
from xueji_kit.background import keep_running
from xueji_kit.runtime import Batch, ServiceRuntime
from xueji_kit.telemetry import sample_consumer_lag, sample_timers_due
from xueji_kit.timers import TimerStore
from xueji_transfer.api import routers
from xueji_transfer.api.common import refused
from xueji_transfer.calendar_notices import NoticeAnnouncer
from xueji_transfer.calendar_source import CalendarSource
from xueji_transfer.case_numbers import CaseNumbers
from xueji_transfer.follow_ups import CommitFollower
from xueji_transfer.handlers.decision import on_decision
from xueji_transfer.handlers.interprovince import InterprovinceMessage, on_interprovince
from xueji_transfer.handlers.student_status import decode_statuses, on_student_statuses
from xueji_transfer.inbox_filings import InboxFilings
from xueji_transfer.mirror import Mirror
from xueji_transfer.records import StudentRecords
from xueji_transfer.rule_exceptions import RuleExceptions
from xueji_transfer.service import CaseRefused, TransferService
from xueji_transfer.settings import TransferSettings
from xueji_transfer.sla_timers import SCHEDULER, SlaTimers


@dataclass(frozen=True)
class Transfer:
    runtime: ServiceRuntime
    service: TransferService
    mirror: Mirror
    timers: SlaTimers
    exceptions: RuleExceptions
    records: StudentRecords
    notices: NoticeAnnouncer


def wire(settings: TransferSettings | None = None) -> Transfer:
    settings = settings or TransferSettings()
    runtime = ServiceRuntime(
        settings,
        title="xueji transfer",
        description="Transfer cases: the 8-step approval chain, SLA timers, offline acceptance, between provinces.",
    )
    filings, timer_store = InboxFilings(runtime.db), TimerStore(runtime.db)
    calendars = CalendarSource(runtime.db, settings)
    records = StudentRecords(runtime.db)
    notices = NoticeAnnouncer(runtime, calendars)  # R31: notify hears of every notice loaded here
    service = TransferService(runtime, settings, calendars, filings, timer_store, records)
    timer_store.clock = lambda: service.clock()  # a timer is armed past due by the clock its case is decided on
    mirror = Mirror(runtime, filings)
    timers = SlaTimers(
        timer_store,
        service,
        lookback_minutes=settings.scheduler_lookback_minutes,
        interval_seconds=settings.scheduler_interval_seconds,
        stale_claim_seconds=settings.scheduler_stale_claim_seconds,
    )
    runtime.broker.context.set_global("transfer", service)
    # Every case commit's settle is also driven from the committed outbox entries, so a crash never loses it.
    runtime.relay.followers.append(CommitFollower(service))
    runtime.broker.context.set_global("mirror", mirror)
    runtime.broker.context.set_global("records", records)
    runtime.startup_hooks += [
        filings.ensure_indexes,
        timer_store.upgrade,
        calendars.refresh,
        notices.announce_stored,
        records.ensure_indexes,
    ]
    runtime.background += [calendars.run_forever, partial(sample_timers_due, timer_store, SCHEDULER)]
    # R31: a notice that came by the policy or calendar file, or through another replica, recomputes open deadlines.
    sweep = partial(keep_running, service.recompute_after_calendar_change, every=60.0,  # as often as it refreshes
                    log=structlog.get_logger("transfer.calendar"), failed="deadline_recompute_failed")  # fmt: skip
    runtime.background.append(sweep)
    runtime.background += [partial(sample_consumer_lag, runtime.broker)]
    if settings.scheduler_enabled:
        runtime.background.append(timers.run_forever)
    runtime.publishes(TRANSFER_STAGE, c.StageOpened | c.StageDeadlineChanged | c.StageClosed)  # type: ignore[arg-type]
    runtime.publishes(TRANSFER_SLA, c.StageWarning | c.StageBreached)  # type: ignore[arg-type]
    runtime.publishes(TRANSFER_CASE, c.TransferCaseChanged)
    runtime.publishes(RULE_EXCEPTION, RuleExceptionRecorded)
    runtime.publishes(INTERPROVINCE_TRANSFER, InterprovinceMessage)  # type: ignore[arg-type]
    runtime.publishes(CALENDAR_NOTICE, CalendarNoticeLoaded)
    runtime.consumes(
        TRANSFER_DECISION, on_decision, group="transfer.decision",
        about="Stage decisions from other systems, decided like those made over HTTP (R21, R50).",
    )  # fmt: skip
    runtime.consumes(
        INTERPROVINCE_TRANSFER, on_interprovince, group="transfer.interprovince",
        topics=settings.interprovince_inbound_topics,
        about="Other provinces' stages for parties here, and decisions on cases owned here (R34).",
    )  # fmt: skip
    runtime.consumes(
        STUDENT_STATUS, on_student_statuses, group="transfer.student_status", batch=Batch(500, decode_statuses),
        about="The registry's record of each student: eligibility facts come from it, not the form (R28).",
    )  # fmt: skip
    return Transfer(runtime, service, mirror, timers, RuleExceptions(runtime), records, notices)


def build_runtime(settings: TransferSettings | None = None) -> ServiceRuntime:
    return wire(settings).runtime


def create_app(settings: TransferSettings | None = None) -> FastAPI:
    transfer = wire(settings)
    app = transfer.runtime.http_app(routers)
    app.state.transfer = transfer.service
    app.state.mirror = transfer.mirror
    app.state.exceptions = transfer.exceptions
    app.state.records = transfer.records
    app.state.case_numbers = CaseNumbers(transfer.runtime.db)
    app.state.calendar_notices = transfer.notices
    # The registry's school directory file, so case views name schools (issue 18).
    app.state.school_names = load_school_names(transfer.service.settings.school_directory_file)
    app.state.timers = transfer.timers  # tests drive time with app.state.timers.tick(now)
    app.add_exception_handler(CaseRefused, refused)
    return app

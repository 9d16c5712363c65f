"""Notify wiring: settings built once, the runtime, the service object, consumers, routes.
Run: uvicorn xueji_notify.app:create_app --factory"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from xueji_contracts.messages.notify import WebhookDeliveryFailed
from xueji_contracts.schools import load_school_names
from xueji_contracts.topics import (
    CALENDAR_NOTICE,
    DEDUPE_REVIEW,
    NOTIFY_WEBHOOK_DLQ,
    REGISTRY_COMPLIANCE,
    RULE_EXCEPTION,
    STUDENT_STATUS,
    TRANSFER_CASE,
    TRANSFER_SLA,
    TRANSFER_STAGE,
)
from xueji_kit.lease import SlotLease
from xueji_kit.runtime import Batch, ServiceRuntime
from xueji_kit.telemetry import sample_consumer_lag, sample_timers_due
from xueji_kit.timers import TimerStore
from xueji_notify.aggregator import DashboardAggregator
from xueji_notify.api import routers
from xueji_notify.api.common import STATIC
from xueji_notify.calendar_notices import CalendarNotices
from xueji_notify.calendar_source import province_calendar
from xueji_notify.delivery import SCHEDULER, WebhookDeliverer
from xueji_notify.feed import ChangeFeed
from xueji_notify.handlers.calendar_notice import on_calendar_notice
from xueji_notify.handlers.dedupe_review import on_dedupe_review
from xueji_notify.handlers.registry_compliance import on_compliance_deadline
from xueji_notify.handlers.rule_exception import on_rule_exception
from xueji_notify.handlers.student_status import decode_statuses, on_student_statuses
from xueji_notify.handlers.transfer_case import on_transfer_case
from xueji_notify.handlers.transfer_sla import on_transfer_sla
from xueji_notify.handlers.transfer_stage import on_transfer_stage
from xueji_notify.notifier import Notifier
from xueji_notify.retention import DeliveryRetention
from xueji_notify.service import NotifyService
from xueji_notify.settings import NotifySettings
from xueji_notify.store import Assignments, DashboardStore, InboxStore, WebhookStore


@dataclass(frozen=True)
class Notify:
    runtime: ServiceRuntime
    service: NotifyService


def wire(settings: NotifySettings | None = None) -> Notify:
    settings = settings or NotifySettings()
    runtime = ServiceRuntime(
        settings,
        title="xueji notify",
        description="Notifications for the responsible jurisdiction, webhooks and the operators' SLA dashboard.",
    )
    inbox, dashboard = InboxStore(runtime.db), DashboardStore(runtime.db)
    notifier = Notifier(inbox)
    calendar = province_calendar(settings)
    notices = CalendarNotices(runtime.db, calendar)  # R31: notices transfer loaded at run time
    holder = f"{socket.gethostname()}:{os.getpid()}:{id(runtime)}"
    aggregator = DashboardAggregator(
        dashboard,
        SlotLease(runtime.db["leases"], "dashboard", holder),
        calendar,
        settings.province,
        interval=settings.dashboard_interval_seconds,
        sweep_every=settings.dashboard_sweep_seconds,
        days_kept=settings.dashboard_days_kept,
    )
    feed = ChangeFeed(dashboard, settings.dashboard_feed_seconds)
    webhooks, timers = WebhookStore(runtime.db), TimerStore(runtime.db)
    deliverer = WebhookDeliverer(settings, webhooks, timers, runtime.events, runtime.relay)
    notifier.outlets.append(deliverer.schedule)
    runtime.startup_hooks += [webhooks.upgrade, timers.upgrade]
    retention = DeliveryRetention(
        webhooks, SlotLease(runtime.db["leases"], "webhook-retention", holder),
        kept=timedelta(days=settings.webhook_deliveries_kept_days), batch=settings.webhook_retention_batch,
        every=settings.webhook_retention_seconds,
    )  # fmt: skip
    runtime.background.append(retention.run_forever)
    runtime.background += [aggregator.run_forever, feed.run_forever, deliverer.run_forever]
    runtime.background += [partial(sample_consumer_lag, runtime.broker), partial(sample_timers_due, timers, SCHEDULER)]
    runtime.publishes(NOTIFY_WEBHOOK_DLQ, WebhookDeliveryFailed)
    # The registry's school directory file, so stored titles (and so webhooks and e-mail) name schools (issue 18).
    schools = load_school_names(settings.school_directory_file)
    assignments = Assignments(runtime.db)
    service = NotifyService(runtime, notifier, dashboard, webhooks, assignments, calendar, feed, schools)
    runtime.broker.context.set_global("notify", service)
    runtime.broker.context.set_global("calendar_notices", notices)
    runtime.startup_hooks += [inbox.ensure_indexes, dashboard.ensure_indexes, assignments.ensure_indexes]
    runtime.startup_hooks.append(notices.refresh)
    runtime.background.append(notices.run_forever)
    runtime.consumes(
        STUDENT_STATUS, on_student_statuses, group="notify", batch=Batch(500, decode_statuses),
        about="A notification for the school of every new record.",
    )  # fmt: skip
    runtime.consumes(
        TRANSFER_STAGE,
        on_transfer_stage,
        group="notify.transfer_stage",
        about="Stage tasks for the responsible jurisdiction; the dashboard's stage projection.",
    )
    runtime.consumes(
        TRANSFER_SLA,
        on_transfer_sla,
        group="notify.transfer_sla",
        about="Warnings and breaches (R22): the late party and the level it escalated to are told.",
    )
    runtime.consumes(
        TRANSFER_CASE,
        on_transfer_case,
        group="notify.transfer_case",
        about="Case outcomes; offline acceptance and reconciliation on the dashboard (R23).",
    )
    runtime.consumes(
        DEDUPE_REVIEW,
        on_dedupe_review,
        group="notify.dedupe_review",
        about="Possible-duplicate review cases (R01, R14): a task for the county, the outcome for the school.",
    )
    runtime.consumes(
        REGISTRY_COMPLIANCE,
        on_compliance_deadline,
        group="notify.compliance",
        about="Compliance deadlines (R02, R32, R44, R45, R54) as tasks for the jurisdiction.",
    )
    runtime.consumes(
        RULE_EXCEPTION,
        on_rule_exception,
        group="notify.rule_exception",
        about="Exceptions to 'generally' rules (R08, R27, R40): the county hears of each; the dashboard lists them.",
    )
    runtime.consumes(
        CALENDAR_NOTICE,
        on_calendar_notice,
        group="notify.calendar_notice",
        about="Holiday notices loaded through transfer (R31): working days left count with the calendar it uses.",
    )
    return Notify(runtime, service)  # fmt: skip


def build_runtime(settings: NotifySettings | None = None) -> ServiceRuntime:
    return wire(settings).runtime


def create_app(settings: NotifySettings | None = None) -> FastAPI:
    notify = wire(settings)
    app = notify.runtime.http_app(routers)
    app.mount("/dashboard/static", StaticFiles(directory=STATIC), name="dashboard-static")
    app.mount("/workbench/static", StaticFiles(directory=STATIC), name="workbench-static")
    app.state.notify = notify.service
    return app

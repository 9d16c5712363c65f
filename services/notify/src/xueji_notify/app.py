"""Notify wiring: settings built once, the runtime, consumers, routes.
Run: uvicorn xueji_notify.app:create_app --factory"""

from __future__ import annotations

from fastapi import FastAPI

from xueji_contracts.topics import STUDENT_STATUS
from xueji_kit.runtime import ServiceRuntime
from xueji_notify import api
from xueji_notify.handlers.student_status import on_student_status
from xueji_notify.settings import NotifySettings
from xueji_notify.store import InboxStore


def build_runtime(settings: NotifySettings | None = None) -> ServiceRuntime:
    settings = settings or NotifySettings()
    runtime = ServiceRuntime(
        settings,
        title="xueji notify",
        description="Notifications for the responsible jurisdiction, webhooks and the operators' SLA dashboard.",
    )
    inbox = InboxStore(runtime.db)
    runtime.broker.context.set_global("inbox", inbox)
    runtime.startup_hooks.append(inbox.ensure_indexes)
    runtime.broker.subscriber(
        settings.topic(STUDENT_STATUS.name),
        group_id=settings.group("notify"),
        auto_offset_reset="earliest",
        title="notify.student_status",
        description="A notification for the school of every new status record.",
    )(on_student_status)
    return runtime


def create_app(settings: NotifySettings | None = None) -> FastAPI:
    runtime = build_runtime(settings)
    app = runtime.http_app([api.router])
    app.state.inbox = runtime.broker.context.get("inbox")
    return app

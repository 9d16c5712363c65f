"""What notify's routes and handlers ask of it, in one object (as `TransferService` is for transfer): file
notifications for the responsible jurisdiction, keep the SLA dashboard's projections, and the operators' own
commands (mark read, acknowledge, register or stop a webhook, assign a stage).

Routes reach it as `request.app.state.notify`, handlers as `Context("notify")`. The writes go through the methods
below; what the routes only read (the inbox, the dashboard's rows, webhooks, assignments) they read from the stores
it holds, so this object does not repeat every query.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from xueji_contracts.auth import OperatorClaims
from xueji_contracts.envelope import Envelope
from xueji_contracts.messages.status import StudentStatusRecorded
from xueji_kit.runtime import ServiceRuntime
from xueji_kit.store import Document
from xueji_notify.calendar_source import ProvinceCalendar
from xueji_notify.domain.names import SchoolNames
from xueji_notify.domain.notification import Notification
from xueji_notify.domain.projection import Change
from xueji_notify.domain.status_notes import status_recorded
from xueji_notify.feed import ChangeFeed
from xueji_notify.metrics import BREACHES
from xueji_notify.notifier import Notifier
from xueji_notify.settings import NotifySettings
from xueji_notify.store import Assignments, DashboardStore, InboxStore, WebhookStore


class NotifyService:
    def __init__(
        self,
        runtime: ServiceRuntime,
        notifier: Notifier,
        dashboard: DashboardStore,
        webhooks: WebhookStore,
        assignments: Assignments,
        calendar: ProvinceCalendar,
        feed: ChangeFeed,
        schools: SchoolNames,
    ) -> None:
        self.runtime = runtime
        self.settings: NotifySettings = runtime.settings  # type: ignore[assignment]
        self.notifier = notifier
        self.inbox: InboxStore = notifier.inbox
        self.dashboard = dashboard
        self.webhooks = webhooks
        self.assignments = assignments
        self.calendar = calendar  # the province's working days: what "days left" counts on
        self.feed = feed  # the dashboard's live changes
        self.schools = schools  # the registry's school directory: titles name schools (issue 18)

    # From the topics

    async def file(self, notes: list[Notification]) -> None:
        """Store each notification in the inbox once, then hand it to the webhooks and e-mail."""
        await self.notifier.send(notes)

    async def file_statuses(self, statuses: list[Envelope[StudentStatusRecorded]]) -> None:
        """A batch of student.status.v1: the school of each student hears what happened, in one insert."""
        await self.file([note for status in statuses for note in status_recorded(status, self.schools)])

    async def project(self, change: Change, *, case: bool = False) -> None:
        """One dashboard change of a stage (or with `case`, of a transfer case): its fields, its history, the nodes
        to recount, then the notifications it carries."""
        if change.fields:
            if case:
                await self.dashboard.set_case(change.key, change.fields)
            else:
                await self.dashboard.set_stage(change.key, change.fields, insert_open=change.insert_open)
        if change.history is not None:
            first_time = await self.dashboard.add_history(change.history)
            if first_time and change.history["kind"] == "breached":
                BREACHES.labels(change.fields["escalated_to_level"]).inc()
        if change.dirty:
            await self.dashboard.mark_dirty(change.dirty, datetime.now(UTC))
        await self.file(change.notes)

    async def set_deadline(self, deadline_id: str, row: dict[str, Any]) -> bool:
        """A deadline row on the dashboard (registry compliance, a dedupe review); False: a warning or breach of a
        deadline already met, which changes nothing and tells no one."""
        return await self.dashboard.set_deadline(deadline_id, row)

    async def record_exception(self, exception_id: str, row: dict[str, Any]) -> None:
        """An exception to a 'generally' rule on the dashboard's list (R08, R27, R40)."""
        await self.dashboard.set_exception(exception_id, row)

    # The operators' commands (routes)

    async def mark_read(self, notification_id: str, reader: str, at: datetime) -> None:
        await self.inbox.mark_read(notification_id, reader, at)

    async def acknowledge(self, notification_id: str, operator: OperatorClaims, at: datetime) -> Document | None:
        """For the jurisdiction (the first acknowledgement stands), and read by this operator."""
        doc = await self.inbox.acknowledge(notification_id, operator.sub, operator.code, at)
        await self.inbox.mark_read(notification_id, operator.sub, at)
        return doc

    async def register_webhook(self, doc: Document) -> Document:
        """The registration stored under its id; one stored before under the same id (a retry) is returned instead."""
        return await self.webhooks.register(doc)

    async def stop_webhook(self, webhook_id: str, operator: OperatorClaims, at: datetime) -> None:
        await self.webhooks.deactivate(webhook_id, at, f"stopped by {operator.sub}")

    async def activate_webhook(self, webhook_id: str, operator: OperatorClaims, at: datetime) -> Document | None:
        """Deliveries resume for notifications from now on (one deactivated by a 410 Gone, or stopped)."""
        return await self.webhooks.activate(webhook_id, at, operator.sub)

    async def assign(self, key: str, node: str, operator: OperatorClaims, at: datetime) -> Document:
        """The operator handles the stage from now on (the latest assignment stands)."""
        return await self.assignments.assign(key, node, operator, at)

    async def release(self, key: str) -> None:
        await self.assignments.release(key)

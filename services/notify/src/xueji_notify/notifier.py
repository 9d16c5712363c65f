"""Hands notifications to the inbox and, once stored, to whatever else delivers them (webhooks, e-mail)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import structlog

from xueji_notify.domain.notification import Notification
from xueji_notify.metrics import NOTIFICATIONS
from xueji_notify.store import InboxStore

log = structlog.get_logger("notify")
Outlet = Callable[[Notification], Awaitable[None]]


class Notifier:
    def __init__(self, inbox: InboxStore) -> None:
        self.inbox = inbox
        self.outlets: list[Outlet] = []

    async def send(self, notes: list[Notification]) -> None:
        # One insert for every note of a batch of messages; a note is delivered only once it is stored.
        for note, created in zip(notes, await self.inbox.add(notes), strict=True):
            if created:
                NOTIFICATIONS.labels(note.kind.value).inc()
            # Outlets run on redeliveries too: each is idempotent by notification id, and a crash
            # between storing and delivering must not lose the delivery.
            for outlet in self.outlets:
                await outlet(note)
            log.info(
                "notification_stored" if created else "notification_already_stored",
                notification_id=note.notification_id,
                kind=note.kind.value,
                jurisdiction=note.jurisdiction,
                correlation_id=note.correlation_id,
            )

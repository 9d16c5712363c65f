"""student.status.v1 -> a notification for the student's school."""

from __future__ import annotations

import structlog
from faststream import Context

from xueji_contracts.envelope import Envelope
from xueji_contracts.messages.status import StudentStatusRecorded
from xueji_notify.domain import for_status_recorded
from xueji_notify.store import InboxStore

log = structlog.get_logger("notify.student_status")


async def on_student_status(message: Envelope[StudentStatusRecorded], inbox: InboxStore = Context("inbox")) -> None:
    notification = for_status_recorded(message)
    created = await inbox.add(notification)
    log.info(
        "notification_stored" if created else "notification_already_stored",
        notification_id=notification.notification_id,
        jurisdiction=notification.jurisdiction,
        correlation_id=str(message.correlation_id),
    )

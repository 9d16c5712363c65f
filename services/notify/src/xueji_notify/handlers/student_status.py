"""student.status.v1 -> a notification for the student's school."""

from __future__ import annotations

from faststream import Context

from xueji_contracts.envelope import Envelope
from xueji_contracts.messages.status import StudentStatusRecorded
from xueji_notify.domain.status_notes import status_recorded
from xueji_notify.service import NotifyService


async def on_student_status(
    message: Envelope[StudentStatusRecorded],
    notify: NotifyService = Context("notify"),
) -> None:
    await notify.file(status_recorded(message, notify.schools))

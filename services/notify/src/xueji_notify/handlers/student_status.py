"""student.status.v1 -> a notification for the student's school.

Consumed in batches (a bulk import publishes a status per student): a batch's notifications are stored in one insert
(kit batches: each message still judged alone, a malformed one dead-lettered with its reason)."""

from __future__ import annotations

from xueji_contracts.envelope import Envelope
from xueji_contracts.messages.status import StudentStatusRecorded
from xueji_kit.batches import batch_handler, parsed
from xueji_notify.service import NotifyService

decode_statuses = parsed(Envelope[StudentStatusRecorded].model_validate_json)
on_student_statuses = batch_handler(
    Envelope[StudentStatusRecorded], "notify", NotifyService.file_statuses, name="on_student_statuses"
)

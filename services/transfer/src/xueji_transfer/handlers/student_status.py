"""student.status.v1 -> the transfer service's copy of each student's record: eligibility facts (R28) come from it.

Consumed in batches (a bulk import publishes a status per student): each student's statuses in order, students side
by side, so their commits go to the store grouped; each message is still judged alone (kit batches)."""

from __future__ import annotations

from xueji_contracts.envelope import Envelope
from xueji_kit.batches import batch_handler, parsed
from xueji_transfer.domain.record import StudentRecord
from xueji_transfer.records import StudentRecords

decode_statuses = parsed(Envelope[StudentRecord].model_validate_json)
on_student_statuses = batch_handler(
    Envelope[StudentRecord], "records", StudentRecords.follow_many, name="on_student_statuses"
)

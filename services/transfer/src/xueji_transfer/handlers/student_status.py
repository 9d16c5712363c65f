"""student.status.v1 -> the transfer service's copy of each student's record: eligibility facts (R28) come from it.

Consumed in batches (a bulk import publishes a status per student): each student's statuses in order, students side
by side, so their commits go to the store grouped; each message is still judged alone (kit batches)."""

from __future__ import annotations

from typing import Any

from faststream import Context

from xueji_contracts.envelope import Envelope
from xueji_kit.batches import handle_batch, parsed
from xueji_transfer.domain.record import StudentRecord
from xueji_transfer.records import StudentRecords

decode_statuses = parsed(Envelope[StudentRecord].model_validate_json)


async def on_student_statuses(
    statuses: list[Envelope[StudentRecord]],
    records: StudentRecords = Context("records"),
    broker: Any = Context("broker"),
    message: Any = Context("message"),
) -> None:
    await handle_batch(broker, message, statuses, records.follow_many)

"""student.status.v1 -> the transfer service's copy of each student's record: eligibility facts (R28) come from it."""

from __future__ import annotations

from faststream import Context

from xueji_contracts.envelope import Envelope
from xueji_transfer.domain.record import StudentRecord
from xueji_transfer.records import StudentRecords


async def on_student_status(message: Envelope[StudentRecord], records: StudentRecords = Context("records")) -> None:
    await records.follow(message)

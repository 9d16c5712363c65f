"""The registry's student records as the transfer service knows them: a projection of student.status.v1 (R28).

Each student's published statuses are a stream of their own (insert-only, `_id`-keyed: cheap on FerretDB 1.x at any
size), and the last one is the record. The commit id derives from the message id, so a redelivery stores nothing."""

from __future__ import annotations

import asyncio

from pymongo.asynchronous.database import AsyncDatabase

from xueji_contracts.envelope import Envelope, derive_id
from xueji_kit.aggregates import Decision, decide_and_save
from xueji_kit.event_store import EventStore
from xueji_kit.store import Document
from xueji_transfer.domain.record import StudentRecord

PREFIX = "student:"
FOLLOWING_AT_ONCE = 32  # students whose statuses are stored side by side


class StudentRecords:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.streams = EventStore(db, "student_records")

    async def ensure_indexes(self) -> None:
        await self.streams.ensure_indexes()

    async def follow(self, message: Envelope[StudentRecord]) -> None:
        record = message.payload
        entry = record.model_dump(mode="json") | {"message_id": str(message.message_id)}
        entry["occurred_at"] = message.occurred_at.isoformat()
        commit_id = str(derive_id(message.message_id, "student_record"))
        await decide_and_save(self.streams, PREFIX + record.student_id, commit_id, lambda _: Decision([entry]))

    async def follow_many(self, messages: list[Envelope[StudentRecord]]) -> None:
        """`follow` for a batch: each student's statuses one after another (in the order published), students at once
        (their commits are grouped into few inserts)."""
        by_student: dict[str, list[Envelope[StudentRecord]]] = {}
        for message in messages:
            by_student.setdefault(message.payload.student_id, []).append(message)
        gate = asyncio.Semaphore(FOLLOWING_AT_ONCE)

        async def in_order(statuses: list[Envelope[StudentRecord]]) -> None:
            async with gate:
                for status in statuses:
                    await self.follow(status)

        await asyncio.gather(*(in_order(statuses) for statuses in by_student.values()))

    async def find(self, student_id: str) -> StudentRecord | None:
        commits = await self.streams.load(PREFIX + student_id)
        return StudentRecord.model_validate(commits[-1]["events"][-1]) if commits else None

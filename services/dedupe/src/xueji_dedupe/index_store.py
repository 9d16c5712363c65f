"""The dedupe index in memory and its durable copy: candidate records in Mongo keyed by student id and version.

The copy is a projection of the identity feed, so it can always be rebuilt from the topic (see the
service README). Every version of a record is one insert (`_id` = student id @ `record_version`): a
redelivered one is refused by the unique `_id`, and nothing is ever read-modify-written (on FerretDB 1.x
updates scan the collection). Loading keeps each student's newest version; a removal (R13) is a version
too, so a late, older update cannot bring the record back.
"""

from __future__ import annotations

from collections import deque

import structlog
from pymongo.asynchronous.database import AsyncDatabase

from xueji_dedupe.domain import CandidateRecord, DedupeIndex
from xueji_dedupe.feed import IdentityUpdate
from xueji_kit.store import Document, insert_many_once

log = structlog.get_logger("dedupe.index")


class IndexKeeper:
    """The in-memory DedupeIndex a check reads, and the version of every record it holds.

    A person just answered "unique" is held in the index at once, before the registry has created the record
    and its identity comes back on the feed: a second creation for the same child a moment later (another
    school, the same minute) then finds the first instead of being answered "unique" too (R01). The hold ends
    when the record's identity arrives, or after `hold_seconds` if the record was never created.
    """

    def __init__(self, hold_seconds: float = 600.0) -> None:
        self.index = DedupeIndex()
        self.versions: dict[str, int] = {}
        self.held: dict[str, float] = {}  # student id -> when the hold lapses (monotonic seconds)
        self._lapsing: deque[tuple[float, str]] = deque()  # the same, in the order they lapse (holds only grow)
        self.hold_seconds = hold_seconds

    def hold(self, record: CandidateRecord, now: float) -> None:
        """Hold a person being created; a record already known (by its identity feed) is left as it is."""
        self.expire(now)
        if record.student_id in self.versions:
            return
        self.index.upsert(record)
        self.held[record.student_id] = now + self.hold_seconds
        self._lapsing.append((now + self.hold_seconds, record.student_id))

    def release(self, student_id: str) -> None:
        """End a hold early (the person turned out to be held by another replica's reservation)."""
        if self.held.pop(student_id, None) is not None and student_id not in self.versions:
            self.index.remove(student_id)

    def expire(self, now: float) -> None:
        """End the holds that lapsed: from the front of the lapse order, so a class of holds costs no scan."""
        while self._lapsing and self._lapsing[0][0] <= now:
            until, student_id = self._lapsing.popleft()
            if self.held.get(student_id) != until:
                continue  # ended or renewed since (the identity arrived, released, held again)
            del self.held[student_id]
            if student_id not in self.versions:
                self.index.remove(student_id)

    def apply(self, update: IdentityUpdate) -> bool:
        """Take an update unless a newer (or the same) version is already held; True when it changed something."""
        self.held.pop(update.student_id, None)
        if self.versions.get(update.student_id, 0) >= update.version:
            return False
        self.versions[update.student_id] = update.version
        if update.record is None:
            self.index.remove(update.student_id)
        else:
            self.index.upsert(update.record)
        return True


class CandidateStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.collection = db["candidates"]

    async def save(self, update: IdentityUpdate, message_id: str) -> bool:
        """Store this version of the record; False when it was stored before (redelivery, replay)."""
        return not await self.save_many([(update, message_id)])

    async def save_many(self, updates: list[tuple[IdentityUpdate, str]]) -> set[int]:
        """Store these versions in one round trip; the indexes of those stored before (redelivery, replay)."""
        return await insert_many_once(self.collection, [_document(u, m) for u, m in updates])

    async def load_into(self, keeper: IndexKeeper) -> int:
        """Fill the in-memory index from the stored copy (at start-up); returns how many records it holds."""
        async for document in self.collection.find({}):
            record = document["record"]
            keeper.apply(
                IdentityUpdate(
                    student_id=document["student_id"],
                    version=int(document["version"]),
                    record=CandidateRecord.model_validate(record) if record is not None else None,
                    province=document["province"],
                )
            )
        log.info("index_loaded", records=len(keeper.index))
        return len(keeper.index)


def _document(update: IdentityUpdate, message_id: str) -> Document:
    return {
        "_id": f"{update.student_id}@{update.version:010d}",
        "student_id": update.student_id,
        "version": update.version,
        "record": update.record.model_dump(mode="json") if update.record is not None else None,
        "province": update.province,
        "message_id": message_id,
    }

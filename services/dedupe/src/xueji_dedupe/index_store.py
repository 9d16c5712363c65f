"""The dedupe index in memory and its durable copy: one candidate document per student id in Mongo.

The copy is a projection of the identity feed, so it can always be rebuilt from the topic (see the
service README). Each document keeps the feed's `record_version`; an update older than the one held
is ignored, which makes redelivery and replay change nothing. A removal (R13) is kept as a tombstone
so that a late, older update cannot bring the record back.
"""

from __future__ import annotations

import structlog
from pymongo.asynchronous.database import AsyncDatabase

from xueji_dedupe.domain import CandidateRecord, DedupeIndex
from xueji_dedupe.feed import IdentityUpdate
from xueji_kit.store import Document

log = structlog.get_logger("dedupe.index")


class IndexKeeper:
    """The in-memory DedupeIndex a check reads, and the version of every record it holds."""

    def __init__(self) -> None:
        self.index = DedupeIndex()
        self.versions: dict[str, int] = {}

    def apply(self, update: IdentityUpdate) -> bool:
        """Take an update unless a newer (or the same) version is already held; True when it changed something."""
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
        """Store the update if it is newer than the stored one; False when it was not (redelivery, replay).

        Read then replace is safe here because one consumer owns a student's partition at a time.
        """
        current = await self.collection.find_one({"_id": update.student_id}, {"version": 1})
        if current is not None and int(current["version"]) >= update.version:
            return False
        document = {
            "_id": update.student_id,
            "version": update.version,
            "record": update.record.model_dump(mode="json") if update.record is not None else None,
            "province": update.province,
            "message_id": message_id,
        }
        await self.collection.replace_one({"_id": update.student_id}, document, upsert=True)
        return True

    async def load_into(self, keeper: IndexKeeper) -> int:
        """Fill the in-memory index from the stored copy (at start-up); returns how many records it holds."""
        async for document in self.collection.find({}):
            record = document["record"]
            keeper.apply(
                IdentityUpdate(
                    student_id=document["_id"],
                    version=int(document["version"]),
                    record=CandidateRecord.model_validate(record) if record is not None else None,
                    province=document["province"],
                )
            )
        log.info("index_loaded", records=len(keeper.index))
        return len(keeper.index)

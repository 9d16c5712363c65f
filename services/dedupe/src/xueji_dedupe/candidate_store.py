"""The dedupe index's durable copy: candidate records in Mongo keyed by student id and version.

The copy is a projection of the identity feed, so it can always be rebuilt from the topic (see the
service README). Every version of a record is one insert (`_id` = student id @ `record_version`): a
redelivered one is refused by the unique `_id`, and nothing is ever read-modify-written (on FerretDB 1.x
updates scan the collection). Loading keeps each student's newest version; a removal (R13) is a version
too, so a late, older update cannot bring the record back.
"""

from __future__ import annotations

import structlog
from pymongo.asynchronous.database import AsyncDatabase

from xueji_dedupe.domain import CandidateRecord
from xueji_dedupe.feed import IdentityUpdate
from xueji_dedupe.index_keeper import IndexKeeper
from xueji_kit.store import Document, insert_many_once

log = structlog.get_logger("dedupe.index")


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

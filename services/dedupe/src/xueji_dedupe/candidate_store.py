"""The dedupe index's durable copy: candidate records in Mongo keyed by student id and version.

The copy is a projection of the identity feed, so it can always be rebuilt from the topic (see the
service README). Every version of a record is one insert (`_id` = student id @ `record_version`): a
redelivered one is refused by the unique `_id`, and nothing is ever read-modify-written (on FerretDB 1.x
updates scan the collection). Loading keeps each student's newest version; a removal (R13) is a version
too, so a late, older update cannot bring the record back.

A batch of the feed (a class's new records) is stored as packs in `candidate_packs`: one document holding up to
1,000 versions as one BSON value (`kit.packs.packs`), which the local store keeps as a single field instead of
converting each field of each record (issue 19). Packed or not, a version is the same; one stored twice (a
redelivered batch packed otherwise) loads once. The packs have a collection of their own so that a version before
them (a rollback) still starts: it reads `candidates` alone and gets the packed versions from the feed it replays.
"""

from __future__ import annotations

import structlog
from pymongo.asynchronous.database import AsyncDatabase

from xueji_dedupe.domain import CandidateRecord
from xueji_dedupe.feed import IdentityUpdate
from xueji_dedupe.index_keeper import IndexKeeper
from xueji_kit.packs import packs, unpacked
from xueji_kit.store import Document, insert_many_once

log = structlog.get_logger("dedupe.index")
PACK_FROM = 16  # versions stored at once from which they are stored as packs (kit.packs.packs)


class CandidateStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.collection = db["candidates"]
        self.packs = db["candidate_packs"]

    async def save(self, update: IdentityUpdate, message_id: str) -> bool:
        """Store this version of the record; False when it was stored before (redelivery, replay)."""
        return not await insert_many_once(self.collection, [_document(update, message_id)])

    async def save_many(self, updates: list[tuple[IdentityUpdate, str]]) -> None:
        """Store these versions in one round trip (many of them as packs); one stored before stays as it is."""
        docs = [_document(u, m) for u, m in updates]
        if len(docs) >= PACK_FROM:
            await insert_many_once(self.packs, packs(docs))
        else:
            await insert_many_once(self.collection, docs)

    async def load_into(self, keeper: IndexKeeper) -> int:
        """Fill the in-memory index from the stored copy (at start-up); returns how many records it holds."""
        async for document in self.collection.find({}):
            self._load(keeper, document)
        async for pack in self.packs.find({}):
            for document in unpacked([pack]):
                self._load(keeper, document)
        log.info("index_loaded", records=len(keeper.index))
        return len(keeper.index)

    @staticmethod
    def _load(keeper: IndexKeeper, document: Document) -> None:
        record = document["record"]
        keeper.apply(
            IdentityUpdate(
                student_id=document["student_id"],
                version=int(document["version"]),
                record=CandidateRecord.model_validate(record) if record is not None else None,
                province=document["province"],
            )
        )


def _document(update: IdentityUpdate, message_id: str) -> Document:
    return {
        "_id": f"{update.student_id}@{update.version:010d}",
        "student_id": update.student_id,
        "version": update.version,
        "record": update.record.model_dump(mode="json") if update.record is not None else None,
        "province": update.province,
        "message_id": message_id,
    }

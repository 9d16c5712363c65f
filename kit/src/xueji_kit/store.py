"""MongoDB access shared by services: the client, and the append-only event stream with its outbox mark.

Works on a real replica set and on FerretDB 1.x alike: no transactions, no change streams; the one
atomic primitive is an insert a unique index refuses (ARCHITECTURE.md, "Persistence").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError, PyMongoError

from xueji_contracts.envelope import Envelope

Document = dict[str, Any]


def connect(uri: str) -> AsyncMongoClient[Document]:
    return AsyncMongoClient(uri, tz_aware=True, serverSelectionTimeoutMS=5000, uuidRepresentation="standard")


def is_duplicate_key(exc: PyMongoError) -> bool:
    if isinstance(exc, DuplicateKeyError):
        return True
    if isinstance(exc, BulkWriteError):
        return any(e.get("code") == 11000 for e in exc.details.get("writeErrors", []))
    return getattr(exc, "code", None) == 11000


class ConcurrencyConflict(Exception):
    """Another writer appended this version first: reload the aggregate and decide again."""


@dataclass(frozen=True)
class Outgoing:
    """An event to publish after it is stored: the topic (without prefix), its key and the message."""

    topic: str
    key: str
    message: Envelope[Any]


class EventStore:
    """Aggregate streams: one document per commit, unique on (aggregate_id, version).

    A commit holds every event one decision produced, so a decision is stored whole or not at all.
    Its `_id` is derived from what caused it, so a redelivered cause is a duplicate-key no-op.
    """

    def __init__(self, db: AsyncDatabase[Document], name: str = "events") -> None:
        self.collection: AsyncCollection[Document] = db[name]

    async def ensure_indexes(self) -> None:
        await self.collection.create_index(
            [("aggregate_id", ASCENDING), ("version", ASCENDING)], unique=True, name="stream_version"
        )
        await self.collection.create_index([("published", ASCENDING)], name="unpublished")

    async def load(self, aggregate_id: str) -> list[Document]:
        """Every commit of one aggregate in version order."""
        cursor = self.collection.find({"aggregate_id": aggregate_id})
        commits = [c async for c in cursor]
        return sorted(commits, key=lambda c: int(c["version"]))

    async def append(
        self,
        *,
        commit_id: str,
        aggregate_id: str,
        version: int,
        events: list[Document],
        outgoing: list[Outgoing],
        now: datetime | None = None,
    ) -> bool:
        """Store one commit. False when this commit was already stored (a redelivery); raises
        ConcurrencyConflict when another commit took `version` first."""
        doc: Document = {
            "_id": commit_id,
            "aggregate_id": aggregate_id,
            "version": version,
            "events": events,
            "outgoing": [
                {"topic": o.topic, "key": o.key, "message": o.message.model_dump(mode="json")} for o in outgoing
            ],
            "published": not outgoing,
            "recorded_at": now or datetime.now(UTC),
        }
        try:
            await self.collection.insert_one(doc)
        except PyMongoError as exc:
            if not is_duplicate_key(exc):
                raise
            if await self.collection.find_one({"_id": commit_id}, {"_id": 1}) is not None:
                return False
            raise ConcurrencyConflict(f"{aggregate_id} already has version {version}") from exc
        return True

    async def unpublished(self, limit: int) -> list[Document]:
        """Commits waiting for the relay, in per-aggregate version order."""
        cursor = self.collection.find({"published": False}).limit(limit)
        commits = [c async for c in cursor]
        return sorted(commits, key=lambda c: (str(c["aggregate_id"]), int(c["version"])))

    async def mark_published(self, commit_ids: list[str]) -> None:
        if commit_ids:
            await self.collection.update_many({"_id": {"$in": commit_ids}}, {"$set": {"published": True}})

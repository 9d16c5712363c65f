"""MongoDB access shared by services: the client, and the append-only event stream with its outbox mark.

Works on a real replica set and on FerretDB 1.x alike: no transactions, no change streams; the one
atomic primitive is an insert a unique index refuses (ARCHITECTURE.md, "Persistence").
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import uuid
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import bson
import pydantic_core
import structlog
from bson import Binary
from bson.codec_options import CodecOptions
from pymongo import ASCENDING, AsyncMongoClient, DeleteOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, ConnectionFailure, DuplicateKeyError, PyMongoError

from xueji_contracts.envelope import Envelope
from xueji_kit.group_insert import GroupInserts

log = structlog.get_logger("store")

Document = dict[str, Any]


def connect(
    uri: str, *, timeout: float | None = None, connect_timeout: float = 20.0, socket_timeout: float | None = None
) -> AsyncMongoClient[Document]:
    """The store's client. With `timeout` (seconds; a service's is XUEJI_MONGODB_TIMEOUT_SECONDS) every operation
    answers or fails within it: a command, a cursor's next batch, with the driver's own retries, reconnects and
    server selection (pymongo's timeoutMS). Without one, an operation sent on an open connection to a store gone
    silent (a dropped path, a hung host) waited until the driver's monitor gave up on the server, ~30 s, and its
    retry as long again. `connect_timeout` bounds opening a connection, and the monitor's check (a silent store is
    marked away within a heartbeat, 10 s, and this). A timeout is the store being away (`store_away`).

    timeoutMS sends maxTimeMS with every command, which the store refuses on a getMore of a cursor that is not
    awaitData: code that sends its own getMore runs under `pymongo.timeout(0)`, where the operation deadline is off
    and socketTimeoutMS (the same `timeout`) bounds each answer instead.

    Services leave `timeout` off by default (XUEJI_MONGODB_TIMEOUT_SECONDS): a whole cursor's reading counts as one
    operation, so a legitimately large read (a minute of 60,000 timers took over 5 s on a loaded local store) would
    fail every time. `socket_timeout` (XUEJI_MONGODB_SOCKET_TIMEOUT_SECONDS) bounds each answer instead, and
    `connect_timeout` has the driver's monitor take a silent store for away within a heartbeat."""
    timeouts: dict[str, Any] = {"connectTimeoutMS": round(connect_timeout * 1000)}
    if timeout is not None:
        timeouts |= {"timeoutMS": round(timeout * 1000), "socketTimeoutMS": round(timeout * 1000)}
    if socket_timeout is not None:
        timeouts["socketTimeoutMS"] = round(socket_timeout * 1000)
    return AsyncMongoClient(
        uri, tz_aware=True, serverSelectionTimeoutMS=5000, uuidRepresentation="standard", **timeouts
    )


def store_away(exc: BaseException) -> bool:
    """The store did not answer (in time): unreachable, the connection lost, or the operation out of time, whether
    the driver gave up (NetworkTimeout, a ConnectionFailure) or the store did (ExecutionTimeout, an OperationFailure;
    a write concern or bulk write out of time). Retrying later may succeed; the request itself is not at fault."""
    return isinstance(exc, ConnectionFailure) or (isinstance(exc, PyMongoError) and exc.timeout)


def is_duplicate_key(exc: PyMongoError) -> bool:
    if isinstance(exc, DuplicateKeyError):
        return True
    if isinstance(exc, BulkWriteError):
        return any(e.get("code") == 11000 for e in exc.details.get("writeErrors", []))
    return getattr(exc, "code", None) == 11000


async def insert_once(collection: AsyncCollection[Document], doc: Document) -> bool:
    """Insert; False when a document with this `_id` is there already (a redelivery, a lost race)."""
    try:
        await collection.insert_one(doc)
    except PyMongoError as exc:
        if is_duplicate_key(exc):
            return False
        raise
    return True


async def upsert_by_id(collection: AsyncCollection[Document], doc_id: Any, update: Document) -> None:
    """`update` the document `doc_id`, inserting it when there is none. Two first writers may both try the insert
    (FerretDB 1.x and MongoDB before 4.2 refuse the second with a duplicate key): the loser applies its update to
    the winner's document, as if it had come second."""
    try:
        await collection.update_one({"_id": doc_id}, update, upsert=True)
    except PyMongoError as exc:
        if not is_duplicate_key(exc):
            raise
        await collection.update_one({"_id": doc_id}, update)


async def replace_by_id(collection: AsyncCollection[Document], doc: Document) -> None:
    """Write `doc` whole under its `_id`. Two first writers may both try the insert: the loser replaces the winner's
    document (last writer wins, as between two replaces of an existing one)."""
    try:
        await collection.replace_one({"_id": doc["_id"]}, doc, upsert=True)
    except PyMongoError as exc:
        if not is_duplicate_key(exc):
            raise
        await collection.replace_one({"_id": doc["_id"]}, doc)


async def serves_queries_from_indexes(db: AsyncDatabase[Document]) -> bool:
    """Whether the store answers filters other than `_id` from an index. FerretDB 1.x (the local store, which names
    itself in buildInfo) does not: it scans for them whatever indexes exist."""
    info = await db.client.admin.command("buildInfo")
    return "ferretdbVersion" not in info


async def query_index(collection: AsyncCollection[Document], keys: list[tuple[str, Any]], **options: Any) -> None:
    """Create an index that serves queries (audits, lists, rebuilds), on a store that uses one. On the local store
    it would serve none and still cost every insert: each indexed key is read out of the stored document's JSON
    (the events collection's stream index was a fifth of a bulk import's index upkeep there)."""
    if await serves_queries_from_indexes(collection.database):
        await collection.create_index(keys, **options)


class ConcurrencyConflict(Exception):
    """Another writer appended this version first: reload the aggregate and decide again."""


@dataclass(frozen=True)
class Outgoing:
    """An event to publish after it is stored: the topic (without prefix), its key and the message."""

    topic: str
    key: str
    message: Envelope[Any]


@dataclass(frozen=True)
class Serialized:
    """A message of a bulk entry serialized once (issue 19): its JSON, as the entry's packed value holds it and as the
    relay publishes it, with what its Kafka headers carry. It was a dict (`model_dump`), encoded to JSON again for the
    packed value and once more by the broker client when published."""

    body: bytes
    correlation_id: str
    province: str

    @classmethod
    def of(cls, message: Envelope[Any]) -> Serialized:
        body = message.__pydantic_serializer__.to_json(message)
        return cls(body, str(message.correlation_id), message.province)


@dataclass(frozen=True)
class Staged:
    """A writer's outbox entry for its commit, under an `_id` of its own (`outbox_key` with the writer's token).

    Several writers of one commit (a timer the scheduler, a settle and the relay's follower all fire) each stage an
    entry, and no writer ever touches another's: the writer whose commit is stored keeps its entry for the relay,
    every other deletes its own. They used to share one `_id`, a writer replacing an entry whose commit was not
    stored yet; a third writer could then stage into the gap between that delete and the re-insert, take the commit
    it found stored for one published long ago and delete the only entry carrying its messages; and an entry put in
    another's place went into the outbox after the next version's, which the relay then published first."""

    token: str
    entry: str  # its `_id`


@dataclass(frozen=True)
class NewStream:
    """The first commit of a stream, for `EventStore.start_many`."""

    commit_id: str
    aggregate_id: str
    events: list[Document]
    outgoing: list[Outgoing]


async def insert_many_once(collection: AsyncCollection[Document], docs: list[Document]) -> set[int]:
    """Insert every document that is not there yet, in one unordered round trip; the indexes of those that were
    (duplicate `_id`: a lost claim, a redelivery). Any other write error propagates."""
    if not docs:
        return set()
    try:
        await collection.insert_many(docs, ordered=False)
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        if any(e.get("code") != 11000 for e in errors):
            raise
        return {int(e["index"]) for e in errors}
    return set()


PACK_SIZE = 1_000  # documents in one pack
LOOKUPS_AT_ONCE = 32  # `_id` lookups one caller has in flight (`EventStore.commits_at`)
_PACK_CODEC: CodecOptions[Document] = CodecOptions(tz_aware=True)


def packs(docs: list[Document], size: int = PACK_SIZE) -> list[Document]:
    """Many small documents written at once as a few: each pack holds up to `size` of them as one BSON value, which
    the local store keeps as a single field instead of converting each field of each document (issue 19). A pack is
    named by the `_id`s it holds, so writing the same ones again with `insert_many_once` writes nothing; the same
    document in two packs (a redelivered batch packed otherwise) is read once by `unpacked`."""
    found = []
    for start in range(0, len(docs), size):
        some = docs[start : start + size]
        digest = hashlib.blake2b("\n".join(str(d["_id"]) for d in some).encode(), digest_size=16).hexdigest()
        found.append({"_id": f"pack:{digest}", "packed": len(some), "docs": bson.encode({"d": some})})
    return found


def unpacked(docs: list[Document]) -> list[Document]:
    """Documents as read, packs opened (`packs`), each `_id` once."""
    if not any("packed" in d for d in docs):
        return docs
    found: dict[Any, Document] = {}
    for doc in docs:
        for one in bson.decode(doc["docs"], _PACK_CODEC)["d"] if "packed" in doc else (doc,):
            found.setdefault(one["_id"], one)
    return list(found.values())


async def delete_by_ids(collection: AsyncCollection[Document], ids: list[Any]) -> None:
    """Delete these documents in one round trip, each by `_id` equality: FerretDB 1.x (the local store) finds
    those through its index, but reads the whole collection for `{"_id": {"$in": ...}}`."""
    if ids:
        await collection.bulk_write([DeleteOne({"_id": i}) for i in ids], ordered=False)


def _messages(outgoing: list[Outgoing]) -> list[Document]:
    return [{"topic": o.topic, "key": o.key, "message": o.message.model_dump(mode="json")} for o in outgoing]


def commit_key(aggregate_id: str, version: int) -> str:
    """A commit's `_id`: the aggregate and its version, so loading a stream is lookups by `_id`."""
    return f"{aggregate_id}@{version:010d}"


def outbox_key(aggregate_id: str, commit_id: str, writer: str) -> str:
    """An outbox entry's `_id`: commit ids are unique within a stream, so the stream is part of the key (two
    streams may each have a commit "opened" waiting for the relay at the same moment), and so is the writer's token
    (`Staged`): an `_id` names one writer's entry, which only that writer (re-staging it, `_still_staged`, with the
    same messages) ever writes again, so the relay's delete by `_id` removes what it published and nothing else."""
    return f"{aggregate_id}#{commit_id}#{writer}"


# The relay reads an aggregate's outbox entries in version order, batch entries (aggregate "") first.
OUTBOX_ORDER = [("aggregate_id", ASCENDING), ("version", ASCENDING)]


class EventStore:
    """Aggregate streams: one document per commit, `_id` = aggregate@version.

    A commit holds every event one decision produced, so a decision is stored whole or not at all;
    the unique `_id` makes a concurrent writer of the same version lose. Its `commit_id` is derived
    from what caused it, so a redelivered cause is recognised and stored nothing twice.

    Why `_id` and not an (aggregate_id, version) query: FerretDB 1.x pushes only `_id` equality down
    to SQLite and scans for every other filter, so a stream load would grow with the whole
    collection (measured: 80 ms at 1,000 commits, 480 ms at 5,000). An `_id` lookup, hit or miss,
    stays ~1 ms at any size once the pushed-down expression is indexed, which the local stack's
    FerretDB does for every collection (deploy/local/ferretdb/idindex.go; MongoDB has it anyway).

    Messages to publish go to a small `outbox` collection (entry `_id` = stream, commit_id and writer), written before
    the commit and confirmed after it, and are stored there only: a commit holds its events, which are the history
    (R12); the messages are derived from them and were a second copy that made a commit 3-4 times dearer to
    insert on the local store; the relay publishes confirmed entries and deletes them, and
    drops an unconfirmed entry only when its commit never appeared (a writer that lost or crashed) or was stored by
    another writer (the commit names the writer whose entry carries its messages).
    """

    ORPHAN_AFTER = timedelta(seconds=30)
    WRITER_AT_WORK = timedelta(seconds=2)  # an unconfirmed entry younger than this is left to its writer
    # Bulk entries (`start_many`) written here and not yet published by this process's relay, above which the next
    # bulk write waits for one to leave, at most BACKLOG_PATIENCE seconds (a stuck relay slows writers, never stops
    # them). The local store finds an outbox entry by `_id` by reading every entry (the table is too small to get
    # its `_id` index, deploy/local/ferretdb/idindex.go), and a bulk entry holds hundreds of messages: with a
    # backlog of a whole province's classes every relay turn read megabytes. Bounded, a turn reads a few entries.
    BULK_BACKLOG = 4
    BACKLOG_PATIENCE = 30.0

    def __init__(self, db: AsyncDatabase[Document], name: str = "events") -> None:
        self.collection: AsyncCollection[Document] = db[name]
        self.outbox: AsyncCollection[Document] = db[f"{name}_outbox"]
        # Confirmations are tiny documents of their own: inserted in bulk and read in one query by the relay, where
        # setting a flag on the entries would rewrite (and, on the local store, scan) the message-laden outbox.
        self.confirmations: AsyncCollection[Document] = db[f"{name}_outbox_confirmed"]
        # While this process's relay holds the lease it publishes what is written here, and a commit stored here is
        # confirmed to it in memory: no confirmation document to write, read and delete. Other processes (and this
        # one after losing the lease) still write one; an entry whose confirmation was lost with a lease (or a
        # crash) is confirmed by looking its commit up, as for a writer that stopped.
        self.relayed_here = False
        self.grouped = GroupInserts()  # concurrent decisions' commits and outbox entries, one insert each
        self.stored_here: set[str] = set()
        self.staged_here: set[str] = set()  # staged by a writer here whose commit is on its way
        self.outbox_order: list[tuple[str, int]] | None = None  # None: natural order (see `unpublished`)
        self._bulk_unsent: set[str] = set()  # bulk entries written here, waiting for this process's relay
        # The streams, commit keys and messages of bulk entries (their packed value, unpacked) that this process wrote
        # while relaying, or has read once: the relay reads the outbox without them (see `_bulk_fields`).
        self._bulk_kept: dict[str, Document] = {}
        self._sent = asyncio.Event()  # set whenever the relay deleted published entries

    async def ensure_indexes(self) -> None:
        # Production MongoDB serves audits and projections rebuilds from this index (a commit's `_id`, aggregate and
        # version, already keeps each version unique).
        await query_index(
            self.collection, [("aggregate_id", ASCENDING), ("version", ASCENDING)], unique=True, name="stream_version"
        )
        # The relay's read order (see `unpublished`): stated as a sort where the store sorts through an index; the
        # local store would sort the whole outbox in memory.
        if await serves_queries_from_indexes(self.collection.database):
            await self.outbox.create_index(OUTBOX_ORDER, name="relay_order")
            self.outbox_order = OUTBOX_ORDER

    async def load(self, aggregate_id: str) -> list[Document]:
        """Every commit of one aggregate in version order (one `_id` lookup per commit)."""
        commits: list[Document] = []
        while (doc := await self.collection.find_one({"_id": commit_key(aggregate_id, len(commits) + 1)})) is not None:
            commits.append(readable(doc))
        return commits

    async def events_of(self, aggregate_id: str) -> list[Document]:
        """Every stored event of one aggregate in order: the events of its commits, one after another."""
        return [event for commit in await self.load(aggregate_id) for event in commit["events"]]

    async def events_until(self, aggregate_id: str, version: int) -> list[Document]:
        """The events of an aggregate's commits up to `version`: the stream as that commit left it, which a request
        retried with its Idempotency-Key answers from, whatever was stored after it (one `_id` lookup per commit)."""
        commits = await self.commits_at([(aggregate_id, v) for v in range(1, version + 1)])
        return [event for commit in commits if commit is not None for event in commit["events"]]

    async def first(self, aggregate_id: str) -> Document | None:
        """The first commit of an aggregate (what started it), in one lookup."""
        doc = await self.collection.find_one({"_id": commit_key(aggregate_id, 1)})
        return None if doc is None else readable(doc)

    async def commits_at(self, wanted: list[tuple[str, int]]) -> list[Document | None]:
        """The commit at each (aggregate, version), None where there is none: one `_id` lookup each, LOOKUPS_AT_ONCE
        of them in flight, so many cost a few round trips' time, not one each (FerretDB 1.x would read the whole
        collection for one `{"_id": {"$in": ...}}`)."""
        gate = asyncio.Semaphore(LOOKUPS_AT_ONCE)

        async def one(aggregate_id: str, version: int) -> Document | None:
            async with gate:
                doc = await self.collection.find_one({"_id": commit_key(aggregate_id, version)})
            return None if doc is None else readable(doc)

        return list(await asyncio.gather(*(one(a, v) for a, v in wanted)))

    async def every_commit(self, query: Document | None = None) -> AsyncIterator[Document]:
        """Every stored commit (matching `query`), with its aggregate, version and events, in no particular order: a
        scan for audits, consistency checks and projection rebuilds."""
        fields = {"aggregate_id": 1, "version": 1, "events": 1, PACKED_EVENTS: 1}
        async for doc in self.collection.find(query or {}, fields):
            yield readable(doc)

    async def append(
        self,
        *,
        commit_id: str,
        aggregate_id: str,
        version: int,
        events: list[Document],
        outgoing: list[Outgoing],
        now: datetime | None = None,
        follow: bool = False,
    ) -> bool:
        """Store one commit. False when this commit was already stored (a redelivery); raises
        ConcurrencyConflict when another commit took `version` first.

        `follow`: the commit has follow-ups (projections, timers) even without messages, so it gets an outbox entry
        all the same: the relay's followers see every such commit once it is stored, also after a crash."""
        at = now or datetime.now(UTC)
        key = commit_key(aggregate_id, version)
        messages = _messages(outgoing)
        staged: Staged | None = None
        if messages or follow:
            staged = await self._stage(commit_id, key, aggregate_id, version, messages, at)
        try:
            if staged:
                self.staged_here.add(staged.entry)  # the relay here waits for this writer, without asking the store
            return await self._commit(key, commit_id, aggregate_id, version, events, messages, at, staged=staged)
        finally:
            if staged:
                self.staged_here.discard(staged.entry)

    async def _commit(
        self,
        key: str,
        commit_id: str,
        aggregate_id: str,
        version: int,
        events: list[Document],
        messages: list[Document],
        at: datetime,
        *,
        staged: Staged | None,
    ) -> bool:
        doc: Document = {
            "_id": key,
            "commit_id": commit_id,
            "aggregate_id": aggregate_id,
            "version": version,
            PACKED_EVENTS: _packed_events(events),  # its messages are in its outbox entry only (class docstring)
            "recorded_at": at,
        }
        if staged:
            doc[WRITER] = staged.token  # whose entry carries its messages (`_stored_by_its_writer`)
        try:
            await self.grouped.of(self.collection).insert_one(doc)
        except PyMongoError as exc:
            if not is_duplicate_key(exc):
                raise
            existing = await self.collection.find_one({"_id": key}, {"commit_id": 1})
            same = existing is not None and existing.get("commit_id") == commit_id
            if staged:
                # Ours is a leftover: the version holds another commit, or this very commit, whose writer staged its
                # own entry before storing it (still in the outbox, or published), and no writer deletes another's.
                await self.outbox.delete_one({"_id": staged.entry, "writer": staged.token})
            if same:
                return False
            raise ConcurrencyConflict(f"{aggregate_id} already has version {version}") from exc
        if staged:
            await self._still_staged(staged, messages, key, commit_id, aggregate_id, version, at)
            if self.relayed_here:
                self.stored_here.add(staged.entry)
            else:
                await self._confirm([staged.entry])
        return True

    async def _still_staged(
        self,
        staged: Staged,
        messages: list[Document],
        key: str,
        commit_id: str,
        aggregate_id: str,
        version: int,
        at: datetime,
    ) -> None:
        """A writer this slow (stage to commit near ORPHAN_AFTER: a store stalled under load) may have had its entry
        taken for an orphan's and dropped before its commit landed: it is staged again, so the commit's messages are
        published (once more, under the same message ids, if it was published meanwhile). Costs nothing otherwise."""
        if datetime.now(UTC) - at < self.ORPHAN_AFTER / 2:
            return
        if await self.outbox.find_one({"_id": staged.entry}, {"_id": 1}) is None:
            await insert_once(self.outbox, _entry(commit_id, key, aggregate_id, version, messages, staged.token, at))

    async def start_many(self, streams: list[NewStream], now: datetime | None = None) -> list[bool]:
        """Store the first commit of many new streams in three round trips in all: a bulk import.

        Their messages go to the outbox as one batch entry, staged before the commits (each commit names the batch)
        and confirmed after them with the streams actually stored, so the relay publishes those and deletes one entry
        instead of one per stream. Per stream, the result is what `append` would return for version 1 (False: that
        commit was stored before); a stream that already has a first commit goes through `append` alone, which
        publishes nothing twice and raises ConcurrencyConflict when that commit is another one.

        `now` is when the commits were decided (their `recorded_at`); the entry is staged at the time it is written,
        which is what another replica's relay goes by when it judges whether its writer stopped: commits stored behind
        their batch, tried again through a store outage, are written minutes after they were decided."""
        at, taken = await self._start_first_commits(streams, now)
        result = [True] * len(streams)
        for i in sorted(taken):
            s = streams[i]
            result[i] = await self.append(
                commit_id=s.commit_id, aggregate_id=s.aggregate_id, version=1, events=s.events, outgoing=s.outgoing,
                now=at,
            )  # fmt: skip
        return result

    async def start_many_or_read(self, streams: list[NewStream], now: datetime | None = None) -> list[Document | None]:
        """`start_many` for a caller that compares what it asks with what was asked before (a class sheet uploaded
        again, corrected): per stream None when this call stored it, else the first commit the stream already had
        (with its events), when that is this same commit (`commit_id`); ConcurrencyConflict when it is another. A
        stream started before costs one `_id` lookup, in place of `append`'s stage, insert, lookup and unstage: its
        messages were the first commit's, and this call publishes nothing for it. Those lookups go out together
        (`commits_at`)."""
        _, taken = await self._start_first_commits(streams, now)
        result: list[Document | None] = [None] * len(streams)
        begun = sorted(taken)
        for i, first in zip(begun, await self.commits_at([(streams[i].aggregate_id, 1) for i in begun]), strict=True):
            if first is None or first.get("commit_id") != streams[i].commit_id:
                raise ConcurrencyConflict(f"{streams[i].aggregate_id} already has version 1")
            result[i] = first
        return result

    async def _start_first_commits(self, streams: list[NewStream], now: datetime | None) -> tuple[datetime, set[int]]:
        """`start_many`'s writes; when they were decided, and the indexes of the streams begun before."""
        await self._room_in_outbox()
        at = now or datetime.now(UTC)
        staged_at = datetime.now(UTC)
        batch = f"batch#{uuid.uuid4().hex}"
        messages = [[(o.topic, o.key, Serialized.of(o.message)) for o in s.outgoing] for s in streams]
        docs = [{"_id": commit_key(s.aggregate_id, 1), "commit_id": s.commit_id, "aggregate_id": s.aggregate_id,
                 "version": 1, PACKED_EVENTS: _packed_events(s.events), "recorded_at": at, "batch": batch}
                for s in streams]  # fmt: skip
        if not any(messages):
            taken = await insert_many_once(self.collection, docs)
        else:
            commits, aggregates = [commit_key(s.aggregate_id, 1) for s in streams], [s.aggregate_id for s in streams]
            fields = {"commits": commits, "aggregates": aggregates, "by_commit": [
                {"outgoing": [{"topic": t, "key": k, "message": m} for t, k, m in c]} for c in messages]}  # fmt: skip
            self.staged_here.add(batch)  # the relay here waits for this writer, without asking the store
            entry = {
                "_id": batch, "aggregate_id": "", "version": 1, "staged_at": staged_at, "confirmed": False,
                MESSAGES: sum(len(m) for m in messages), PACKED: _pack(commits, aggregates, messages),
            }  # fmt: skip
            try:
                await self.outbox.insert_one(entry)
                if self.relayed_here:
                    self._bulk_unsent.add(batch)
                    self._keep_fields(batch, fields)
                taken = await insert_many_once(self.collection, docs)
                stored = [i for i in range(len(streams)) if i not in taken]
                await self.confirmations.insert_one({"_id": batch, "stored": stored})
                await self._batch_still_staged(entry, stored)
            finally:
                self.staged_here.discard(batch)
        return at, taken

    async def _batch_still_staged(self, entry: Document, stored: list[int]) -> None:
        """`_still_staged` for a batch entry: a writer this slow (staged to confirmed near ORPHAN_AFTER, a store
        stalled under load) may have had its entry taken for an orphan's by another replica's relay, which published
        the messages of the commits stored by then and deleted it. Staged again, now confirmed: the relay publishes
        the messages of every commit it stored (some a second time, under the same message ids)."""
        if datetime.now(UTC) - entry["staged_at"] < self.ORPHAN_AFTER / 2:
            return
        if await self.outbox.find_one({"_id": entry["_id"]}, {"_id": 1}) is None:
            log.warning("bulk_entry_staged_again", entry=entry["_id"], messages=entry[MESSAGES])
            await insert_once(self.confirmations, {"_id": entry["_id"], "stored": stored})  # deleted with it, maybe
            await insert_once(self.outbox, entry | {"staged_at": datetime.now(UTC)})

    async def _room_in_outbox(self) -> None:
        """Wait while BULK_BACKLOG bulk entries written here wait for this process's relay (see BULK_BACKLOG). Only
        the time of the answer changes: what a writer stores is durable before it answers, waiting or not."""
        if not self.relayed_here:
            self._bulk_unsent.clear()  # another process relays (and deletes) them: nothing here to wait for
            return
        loop = asyncio.get_running_loop()
        until = loop.time() + self.BACKLOG_PATIENCE
        while len(self._bulk_unsent) >= self.BULK_BACKLOG and (left := until - loop.time()) > 0:
            self._sent.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._sent.wait(), left)

    async def _stage(
        self, commit_id: str, key: str, aggregate_id: str, version: int, messages: list[Document], at: datetime
    ) -> Staged:
        """Put the commit's messages in the outbox, unconfirmed, in an entry of this writer's own (`Staged`): whether
        the commit is stored already (a redelivery) or by whom is for `_commit` to find out."""
        token = uuid.uuid4().hex
        entry = _entry(commit_id, key, aggregate_id, version, messages, token, at, confirmed=False)
        await self.grouped.of(self.outbox).insert_one(entry)
        return Staged(token, entry["_id"])

    async def unpublished(self, limit: int, now: datetime | None = None) -> list[Document]:
        """Outbox entries ready to publish, in per-aggregate version order, each with its `outgoing` messages and the
        keys of the commits it stands for (`committed`, for the relay's followers).

        An aggregate's entries stop at its first unconfirmed one, so a later version never overtakes an earlier one
        (a batch entry of first commits, unconfirmed, stops all of its aggregates); unconfirmed entries whose
        commits never appeared are dropped.
        """
        at = now or datetime.now(UTC)
        entries = sorted(await self._waiting(limit), key=lambda e: (str(e["aggregate_id"]), int(e["version"])))
        confirmed: dict[str, Document] = {}
        here = self.stored_here | self.staged_here
        if asked_ids := [e["_id"] for e in entries if e["_id"] not in here]:
            asked = {"_id": {"$in": asked_ids}}
            confirmed = {c["_id"]: c async for c in self.confirmations.find(asked)}
        ready: list[Document] = []
        blocked: set[str] = set()
        for entry in [await self._bulk_fields(e) if MESSAGES in e else e for e in entries]:
            if entry is None:
                continue  # published and deleted meanwhile (by a relay that held the lease before this one)
            covers = entry.get("aggregates") or [entry["aggregate_id"]]
            if blocked.intersection(covers) or entry["_id"] in self.staged_here:
                blocked.update(covers)
                continue
            if entry.get("requeued"):
                ready.append(entry)  # a parked follow-up put back (xueji_kit.followups): followed, nothing published
                continue
            if "commits" in entry:
                stored = await self._batch_stored(entry, confirmed.get(entry["_id"]), at)
                if stored is None:
                    blocked.update(covers)
                    continue
                outgoing = [m for i in stored for m in entry["by_commit"][i]["outgoing"]]
                committed = [entry["commits"][i] for i in stored]
                ready.append(entry | {"confirmed": True, "outgoing": outgoing, "committed": committed})
                continue
            here_or_confirmed = entry["_id"] in self.stored_here or entry["_id"] in confirmed or entry.get("confirmed")
            judged = True if here_or_confirmed else await self._confirm_or_drop(entry, at)
            if judged:
                ready.append(entry | {"confirmed": True, "committed": [entry["commit"]]})
            elif judged is not None:  # None: dropped, a writer's that lost a stored commit (holds nothing up)
                blocked.update(covers)
        return ready

    async def _waiting(self, limit: int) -> list[Document]:
        """The first outbox entries, about `limit` messages of them (a batch entry holds hundreds: the rest are read
        next time), with the store sending no more entries than that takes.

        A cursor's batches are sized as it goes: one entry first, then as many as the messages still wanted need at
        the size of those read so far. A plain cursor would have the store send its default first batch (up to 101
        entries), which a bulk import's backlog of classes makes megabytes that the local store decodes on every
        read, only for the relay to publish the first of them: each read cost as much as the whole backlog.

        Per-aggregate order needs this read to hold entry N of an aggregate whenever it holds N+1. On MongoDB it is
        stated: sorted by (aggregate_id, version) through the relay_order index (a batch entry, aggregate "",
        first). FerretDB 1.x pushes no sort down: it would read and sort the whole outbox in memory on every run
        (measured, 500 entries read: 76-88 ms unsorted at 10,000 and 40,000 entries waiting; sorted, 3.4 s and
        14 s). There the read is in natural order, which is insertion order (SQLite rowids), and N+1 is staged
        only after commit N is stored, so it is inserted later. See docs/architecture.md."""
        db, name = self.outbox.database, self.outbox.name
        # Without a bulk entry's packed value: the relay here mostly has it in memory (`_bulk_fields`).
        find: Document = {"find": name, "filter": {}, "projection": {PACKED: 0}, "limit": limit, "batchSize": 1}
        if self.outbox_order is not None:
            find["sort"] = dict(self.outbox_order)
        read: list[Document] = []
        messages = 0
        # One session for the cursor's commands: MongoDB serves a cursor's getMore only in the session that opened it.
        async with db.client.start_session() as session:
            ask = functools.partial(db.command, codec_options=self.outbox.codec_options, session=session)
            cursor = (await ask(find))["cursor"]
            try:
                while True:
                    for entry in cursor.get("firstBatch", cursor.get("nextBatch", [])):
                        read.append(entry)
                        messages += _message_count(entry)
                    if not cursor["id"] or messages >= limit or len(read) >= limit:
                        break
                    per_entry = max(1, messages // max(1, len(read)))
                    wanted = min(limit - len(read), -(-(limit - messages) // per_entry))
                    cursor = (await ask({"getMore": cursor["id"], "collection": name, "batchSize": wanted}))["cursor"]
            finally:
                if cursor["id"]:
                    with contextlib.suppress(PyMongoError):  # the store ends an abandoned cursor on its own anyway
                        await ask({"killCursors": name, "cursors": [cursor["id"]]})
        return read

    async def _bulk_fields(self, entry: Document) -> Document | None:
        """A bulk entry read without its packed value, with its streams, commit keys and messages: kept in memory when
        this process wrote it (or read it before), else read by `_id` once. None: the entry is gone."""
        fields = self._bulk_kept.get(entry["_id"])
        if fields is None:
            packed = await self.outbox.find_one({"_id": entry["_id"]}, {PACKED: 1})
            if packed is None:
                return None
            fields = self._keep_fields(entry["_id"], pydantic_core.from_json(zlib.decompress(packed[PACKED])))
        return entry | fields

    def _keep_fields(self, entry_id: str, fields: Document) -> Document:
        while len(self._bulk_kept) >= 4 * self.BULK_BACKLOG:  # entries another relay published: forget the oldest
            self._bulk_kept.pop(next(iter(self._bulk_kept)))
        self._bulk_kept[entry_id] = fields
        return fields

    async def _batch_stored(self, entry: Document, confirmation: Document | None, now: datetime) -> list[int] | None:
        """The streams of a batch entry whose commits it stored; None while its writer may still be at work. A
        writer that stopped before confirming is recognised by the commits naming the batch (after ORPHAN_AFTER)."""
        if confirmation is not None:
            return [int(i) for i in confirmation["stored"]]
        if now - _aware(entry["staged_at"]) < self.ORPHAN_AFTER:
            return None
        stored = []
        for i, key in enumerate(entry["commits"]):
            commit = await self.collection.find_one({"_id": key}, {"batch": 1})
            if commit is not None and commit.get("batch") == entry["_id"]:
                stored.append(i)
        return stored

    async def _confirm(self, entry_ids: list[str]) -> None:
        await insert_many_once(self.confirmations, [{"_id": i} for i in entry_ids])

    async def _confirm_or_drop(self, entry: Document, now: datetime) -> bool | None:
        """True: publish the entry; False: not yet (its writer may be at work), None: dropped for good."""
        if now - _aware(entry["staged_at"]) < self.WRITER_AT_WORK:
            return False  # its writer is most likely storing the commit and confirming it right now
        stored = await self._stored_by_its_writer(entry)
        if stored:
            return True  # its writer stopped between commit and confirmation
        if stored is not None:
            # Another writer's entry of a stored commit (a writer that lost it, at work or stopped): never published,
            # so it holds up nothing behind it (the commit's messages are in the entry of the writer that stored it).
            await self.outbox.delete_one({"_id": entry["_id"], "writer": entry.get("writer")})
            return None
        if now - _aware(entry["staged_at"]) > self.ORPHAN_AFTER:
            # That very entry (by its writer's token). A writer stalled this long whose commit landed after the
            # lookup above may have looked for its entry (`_still_staged`) before this delete, found it, and left
            # it: looked up once more, such a commit gets its entry back, as read.
            await self.outbox.delete_one({"_id": entry["_id"], "writer": entry.get("writer")})
            if await self._stored_by_its_writer(entry):
                await insert_once(self.outbox, entry | {"confirmed": True})
                return True
        return False

    async def _stored_by_its_writer(self, entry: Document) -> bool | None:
        """Whether the entry's commit is stored by the entry's own writer (None: the commit is not stored). Another
        writer of the same commit (its cause redelivered and decided again) enveloped its messages afresh, under
        message ids of their own: its entry, read by a relay before that writer found the commit stored and deleted
        it, was published beside the messages of the writer that stored it (dedupe answered one check twice, and the
        registry took the second answer for another verdict: `record_begun_otherwise`). A commit from before writers
        were recorded is judged by its commit id, as then; a commit written in bulk by a batch entry's writer."""
        stored = await self.collection.find_one({"_id": entry["commit"]}, {"commit_id": 1, WRITER: 1, "batch": 1})
        if stored is None or stored.get("commit_id") != entry.get("commit_id", entry["_id"]):
            return None
        if WRITER in stored:
            return bool(stored[WRITER] == entry.get("writer"))
        return "batch" not in stored

    async def delete_published(self, entry_ids: list[str]) -> None:
        """Delete the outbox entries the broker has acknowledged, with their confirmations: whatever is still in the
        outbox is not yet published, so there is no mark to set and nothing to sweep later."""
        if entry_ids:
            await delete_by_ids(self.outbox, entry_ids)
            # Entries confirmed in memory never had a confirmation document.
            if confirmed_in_store := [i for i in entry_ids if i not in self.stored_here]:
                await delete_by_ids(self.confirmations, confirmed_in_store)
            self.stored_here.difference_update(entry_ids)
            self._bulk_unsent.difference_update(entry_ids)
            for entry_id in entry_ids:
                self._bulk_kept.pop(entry_id, None)
            self._sent.set()


Message = tuple[str, str, Serialized]  # a bulk entry's message: topic, key, the message serialized

# A bulk entry's streams, commit keys and messages, as one value: compressed JSON (see `_pack`); and its message count.
PACKED = "packed"
MESSAGES = "messages"
# A commit's events, as one value (see `_packed_events`); `readable` gives them back as `events`.
PACKED_EVENTS = "events_packed"
# A commit's writer: the token of the outbox entry that carries its messages (`Staged`), when it has one.
WRITER = "writer"


def _pack(commits: list[str], aggregates: list[str], messages: list[list[Message]]) -> Binary:
    """A bulk entry's hundreds of messages as one opaque value. The local store converts every field of a document it
    writes, reads or deletes (a delete reads the document first), at about 0.2-0.3 ms of its CPU per KB of nested
    fields: a class's entry (500 messages, ~360 KB) cost it ~120 ms each time, three times per entry; as one
    compressed binary value (~55 KB) about 5 ms. Each message's JSON (`Serialized`) is written into it as it is, not
    parsed and encoded again."""
    to_json = pydantic_core.to_json

    def message(topic: str, key: str, serialized: Serialized) -> bytes:
        return b'{"topic":' + to_json(topic) + b',"key":' + to_json(key) + b',"message":' + serialized.body + b"}"

    by_commit = b",".join(b'{"outgoing":[' + b",".join(message(*m) for m in outgoing) + b"]}" for outgoing in messages)
    fields = b'{"commits":' + to_json(commits) + b',"aggregates":' + to_json(aggregates) + b',"by_commit":['
    return Binary(zlib.compress(fields + by_commit + b"]}", 1))


def _packed_events(events: list[Document]) -> Binary:
    """A commit's events as one value, their JSON: for the same reason as `_pack` (a new record's commit, one event of
    ~0.7 KB, cost the local store 0.11 ms of CPU to insert as documents, 0.03-0.05 as one value). Not compressed: a
    commit is a kilobyte or two, where setting up zlib cost 20-60 us per commit against 2 us for the JSON, more than
    the store saves on the smaller value; MongoDB compresses its storage blocks anyway."""
    return Binary(pydantic_core.to_json(events))


def readable(commit: Document) -> Document:
    """A stored commit with its events under `events`, whether stored as one value (JSON, or zlib-compressed JSON as
    for a while) or as documents (a commit stored before). Every reader of commits goes through this (`load`, `first`,
    `every_commit`)."""
    packed = commit.pop(PACKED_EVENTS, None)
    if packed is not None:
        value = bytes(packed)
        commit["events"] = pydantic_core.from_json(value if value[:1] == b"[" else zlib.decompress(value))
    return commit


def _message_count(entry: Document) -> int:
    if MESSAGES in entry:
        return int(entry[MESSAGES])
    return len(entry.get("outgoing", [])) + sum(len(c["outgoing"]) for c in entry.get("by_commit", []))


def _entry(
    commit_id: str,
    key: str,
    aggregate_id: str,
    version: int,
    messages: list[Document],
    writer: str,
    at: datetime,
    *,
    confirmed: bool = True,
) -> Document:
    """A commit's outbox entry, staged by `writer` (a token of its own)."""
    return {"_id": outbox_key(aggregate_id, commit_id, writer), "commit_id": commit_id, "commit": key,
            "aggregate_id": aggregate_id, "version": version, "outgoing": messages, "confirmed": confirmed,
            "staged_at": at, "writer": writer}  # fmt: skip


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)

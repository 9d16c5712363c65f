"""The append-only event stream: one document per commit, with its messages staged in the outbox for the relay."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import uuid
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pydantic_core
import structlog
from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from xueji_kit.commit_documents import PACKED_EVENTS, WRITER, commit_key, packed_events, readable
from xueji_kit.group_insert import GroupInserts
from xueji_kit.outbox_entries import (
    MESSAGES,
    OUTBOX_ORDER,
    PACKED,
    Outgoing,
    Serialized,
    Staged,
    message_count,
    outbox_entry,
    packed_messages,
)
from xueji_kit.store import (
    ConcurrencyConflict,
    Document,
    delete_by_ids,
    insert_many_once,
    insert_once,
    is_duplicate_key,
    query_index,
)

log = structlog.get_logger("store")

LOOKUPS_AT_ONCE = 32  # `_id` lookups one caller has in flight (`EventStore.commits_at`)


@dataclass(frozen=True)
class NewStream:
    """The first commit of a stream, for `EventStore.start_many`."""

    commit_id: str
    aggregate_id: str
    events: list[Document]
    outgoing: list[Outgoing]


def _messages(outgoing: list[Outgoing]) -> list[Document]:
    return [{"topic": o.topic, "key": o.key, "message": o.message.model_dump(mode="json")} for o in outgoing]


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
        if await query_index(self.outbox, OUTBOX_ORDER, name="relay_order"):
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

    async def commit_at(self, aggregate_id: str, version: int) -> Document | None:
        """The commit at one version of an aggregate, None when there is none, in one lookup."""
        doc = await self.collection.find_one({"_id": commit_key(aggregate_id, version)})
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
            PACKED_EVENTS: packed_events(events),  # its messages are in its outbox entry only (class docstring)
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
            await insert_once(
                self.outbox, outbox_entry(commit_id, key, aggregate_id, version, messages, staged.token, at)
            )

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
                 "version": 1, PACKED_EVENTS: packed_events(s.events), "recorded_at": at, "batch": batch}
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
                MESSAGES: sum(len(m) for m in messages), PACKED: packed_messages(commits, aggregates, messages),
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
        entry = outbox_entry(commit_id, key, aggregate_id, version, messages, token, at, confirmed=False)
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
                        messages += message_count(entry)
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


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)

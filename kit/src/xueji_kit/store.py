"""MongoDB access shared by services: the client, and writes made safe by the unique `_id` alone.

Works on a real replica set and on FerretDB 1.x alike: no transactions, no change streams; the one
atomic primitive is an insert a unique index refuses (ARCHITECTURE.md, "Persistence"). The append-only
event stream built on it is `xueji_kit.event_store`.
"""

from __future__ import annotations

from typing import Any

from pymongo import AsyncMongoClient, DeleteOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, ConnectionFailure, DuplicateKeyError, PyMongoError

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


async def query_index(collection: AsyncCollection[Document], keys: list[tuple[str, Any]], **options: Any) -> bool:
    """Create an index that serves queries (audits, lists, rebuilds), on a store that uses one. On the local store
    it would serve none and still cost every insert: each indexed key is read out of the stored document's JSON
    (the events collection's stream index was a fifth of a bulk import's index upkeep there). Whether it did."""
    if not await serves_queries_from_indexes(collection.database):
        return False
    await collection.create_index(keys, **options)
    return True


async def delete_by_ids(collection: AsyncCollection[Document], ids: list[Any]) -> None:
    """Delete these documents in one round trip, each by `_id` equality: FerretDB 1.x (the local store) finds
    those through its index, but reads the whole collection for `{"_id": {"$in": ...}}`."""
    if ids:
        await collection.bulk_write([DeleteOne({"_id": i}) for i in ids], ordered=False)


class ConcurrencyConflict(Exception):
    """Another writer appended this version first: reload the aggregate and decide again."""

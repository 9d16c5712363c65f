"""The outbox's entries: the messages a commit publishes (`Outgoing`), the `_id` an entry is stored under, the order
the relay reads entries in, and a bulk entry's messages packed as one value."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pydantic_core
from bson import Binary
from pymongo import ASCENDING

from xueji_contracts.envelope import Envelope
from xueji_kit.store import Document


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


def outbox_key(aggregate_id: str, commit_id: str, writer: str) -> str:
    """An outbox entry's `_id`: commit ids are unique within a stream, so the stream is part of the key (two
    streams may each have a commit "opened" waiting for the relay at the same moment), and so is the writer's token
    (`Staged`): an `_id` names one writer's entry, which only that writer (re-staging it with the same messages,
    `EventStore._still_staged`) ever writes again, so the relay's delete by `_id` removes what it published and
    nothing else."""
    return f"{aggregate_id}#{commit_id}#{writer}"


# The relay reads an aggregate's outbox entries in version order, batch entries (aggregate "") first.
OUTBOX_ORDER = [("aggregate_id", ASCENDING), ("version", ASCENDING)]


Message = tuple[str, str, Serialized]  # a bulk entry's message: topic, key, the message serialized

# A bulk entry's streams, commit keys and messages, as one value: compressed JSON (see `packed_messages`); and its
# message count.
PACKED = "packed"
MESSAGES = "messages"


def packed_messages(commits: list[str], aggregates: list[str], messages: list[list[Message]]) -> Binary:
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


def message_count(entry: Document) -> int:
    if MESSAGES in entry:
        return int(entry[MESSAGES])
    return len(entry.get("outgoing", [])) + sum(len(c["outgoing"]) for c in entry.get("by_commit", []))


def outbox_entry(
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

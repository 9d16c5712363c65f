"""A commit as stored: its `_id` (`commit_key`) and its events packed as one value (`packed_events`, `readable`)."""

from __future__ import annotations

import zlib

import pydantic_core
from bson import Binary

from xueji_kit.store import Document


def commit_key(aggregate_id: str, version: int) -> str:
    """A commit's `_id`: the aggregate and its version, so loading a stream is lookups by `_id`."""
    return f"{aggregate_id}@{version:010d}"


# A commit's events, as one value (see `packed_events`); `readable` gives them back as `events`.
PACKED_EVENTS = "events_packed"
# A commit's writer: the token of the outbox entry that carries its messages (`Staged`), when it has one.
WRITER = "writer"


def packed_events(events: list[Document]) -> Binary:
    """A commit's events as one value, their JSON: for the same reason as a bulk outbox entry's messages
    (`xueji_kit.outbox_entries.packed_messages`: a new record's commit, one event of ~0.7 KB, cost the local store
    0.11 ms of CPU to insert as documents, 0.03-0.05 as one value). Not compressed: a commit is a kilobyte or two,
    where setting up zlib cost 20-60 us per commit against 2 us for the JSON, more than the store saves on the
    smaller value; MongoDB compresses its storage blocks anyway."""
    return Binary(pydantic_core.to_json(events))


def readable(commit: Document) -> Document:
    """A stored commit with its events under `events`, whether stored as one value (JSON, or zlib-compressed JSON as
    for a while) or as documents (a commit stored before). Every reader of commits goes through this
    (`EventStore.load`, `first`, `every_commit`)."""
    packed = commit.pop(PACKED_EVENTS, None)
    if packed is not None:
        value = bytes(packed)
        commit["events"] = pydantic_core.from_json(value if value[:1] == b"[" else zlib.decompress(value))
    return commit

"""Load -> decide -> save for event-sourced aggregates, with optimistic concurrency and retries.

A decision that loses the race for its version (another writer appended first) is decided again
on the fresh stream; a decision whose commit id was already stored (a redelivered cause) is a no-op.

With a `StreamCache`, a service keeps the streams it wrote lately in memory and decides on them without reading the
store: the commit is appended at the next version it knows of, and the store's unique `_id` still decides — a stream
another replica (or a crashed attempt) moved on makes the append conflict, and that conflict reloads the stream.
"""

from __future__ import annotations

import asyncio
import random
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from xueji_kit.event_store import EventStore
from xueji_kit.outbox_entries import Outgoing
from xueji_kit.store import ConcurrencyConflict, Document


@dataclass(frozen=True)
class Decision:
    """What a command produced: events for the stream, messages for the relay to publish."""

    events: list[Document] = field(default_factory=list)
    outgoing: list[Outgoing] = field(default_factory=list)
    follow: bool = False  # the relay's followers must see this commit even if it publishes nothing


@dataclass(frozen=True)
class Saved:
    version: int  # the commit's own version, also when it was stored before (a later one may follow it)
    stored: bool  # False when this commit id had been stored before (a redelivery)


Decide = Callable[[list[Document]], Decision]


class AggregateConflict(RuntimeError):
    """Too many writers on one aggregate at once; the caller may retry later."""


@dataclass(frozen=True)
class Stream:
    """One aggregate's stream as last seen: its version, every event in order, and the commit ids it holds (each
    with its version: a redelivered commit is answered with its own, not the stream's latest)."""

    version: int
    history: tuple[Document, ...]
    commit_ids: Mapping[str, int]

    @staticmethod
    def of(commits: list[Document]) -> Stream:
        return Stream(
            version=int(commits[-1]["version"]) if commits else 0,
            history=tuple(e for c in commits for e in c["events"]),
            commit_ids={str(c.get("commit_id")): int(c["version"]) for c in commits},
        )

    def then(self, commit_id: str, events: list[Document]) -> Stream:
        return Stream(self.version + 1, (*self.history, *events), {**self.commit_ids, commit_id: self.version + 1})


class StreamCache:
    """The streams this process decided on lately (least recently used dropped past `size`). A stream here may be
    behind the store (another replica appended); never ahead of it, since only stored commits are added."""

    def __init__(self, size: int = 5000) -> None:
        self._size = size
        self._streams: OrderedDict[str, Stream] = OrderedDict()

    def get(self, aggregate_id: str) -> Stream | None:
        stream = self._streams.get(aggregate_id)
        if stream is not None:
            self._streams.move_to_end(aggregate_id)
        return stream

    def put(self, aggregate_id: str, stream: Stream) -> None:
        known = self._streams.get(aggregate_id)
        if known is not None and known.version > stream.version:
            return  # a concurrent decision stored a later version first: keep it
        self._streams[aggregate_id] = stream
        self._streams.move_to_end(aggregate_id)
        while len(self._streams) > self._size:
            self._streams.popitem(last=False)

    def forget(self, aggregate_id: str) -> None:
        self._streams.pop(aggregate_id, None)


async def load_stream(store: EventStore, aggregate_id: str, cache: StreamCache | None = None) -> Stream:
    """The stream from the cache, else from the store (and then cached)."""
    stream = cache.get(aggregate_id) if cache is not None else None
    if stream is None:
        stream = Stream.of(await store.load(aggregate_id))
        if cache is not None and stream.version:
            cache.put(aggregate_id, stream)
    return stream


async def decide_and_save(
    store: EventStore,
    aggregate_id: str,
    commit_id: str,
    decide: Decide,
    *,
    attempts: int = 8,
    cache: StreamCache | None = None,
    new: bool = False,
) -> Saved:
    """Run `decide` on the aggregate's past events and append its decision as one commit.

    `decide` must be pure and may raise a domain error, which propagates and stores nothing. With a `cache`, the
    stream is read from the store only when the cache does not have it or an append conflicts; `new` says the caller
    expects no stream yet (a creation with a fresh id), so not even that first read is made: a stream that does exist
    makes the first commit conflict and is then loaded. A cached stream is only ever behind the store, so what is
    decided on it is stored only if its commit wins the next version; a refusal or a decision to do nothing, which no
    conflict would catch, is decided again on the stream read afresh before it is believed.
    """
    stream: Stream | None = Stream(0, (), {}) if new and cache is not None else None
    for attempt in range(attempts):
        fresh = stream is None and (cache is None or cache.get(aggregate_id) is None)
        if stream is None:
            stream = await load_stream(store, aggregate_id, cache)
        if commit_id in stream.commit_ids:
            return Saved(version=stream.commit_ids[commit_id], stored=False)
        try:
            decision = decide(list(stream.history))
        except Exception:
            if fresh or cache is None:
                raise
            cache.forget(aggregate_id)  # refused on what this replica last saw: the store may be further along
            stream = None
            continue
        if not decision.events:
            if not fresh and cache is not None:
                cache.forget(aggregate_id)  # nothing to do, as far as this replica knows: make sure
                stream = None
                continue
            return Saved(version=stream.version, stored=False)
        version = stream.version + 1
        try:
            stored = await store.append(
                commit_id=commit_id,
                aggregate_id=aggregate_id,
                version=version,
                events=decision.events,
                outgoing=decision.outgoing,
                follow=decision.follow,
            )
        except ConcurrencyConflict:
            if cache is not None:
                cache.forget(aggregate_id)
            stream = None
            # Back off a little, with jitter, so racing writers do not collide again in lockstep (not on the first
            # conflict of a cached stream: that is a stale cache, not a race).
            if cache is None or attempt > 0:
                await asyncio.sleep(random.uniform(0, 0.01 * 2**attempt))
            continue
        if not stored:  # this very commit was stored before (a redelivery): the stream is read afresh next time
            if cache is not None:
                cache.forget(aggregate_id)
            return Saved(version=version, stored=False)
        if cache is not None:
            cache.put(aggregate_id, stream.then(commit_id, decision.events))
        return Saved(version=version, stored=stored)
    raise AggregateConflict(f"{aggregate_id}: gave up after {attempts} concurrent-write conflicts")

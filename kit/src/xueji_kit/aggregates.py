"""Load -> decide -> save for event-sourced aggregates, with optimistic concurrency and retries.

A decision that loses the race for its version (another writer appended first) is decided again
on the fresh stream; a decision whose commit id was already stored (a redelivered cause) is a no-op.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from xueji_kit.store import ConcurrencyConflict, Document, EventStore, Outgoing


@dataclass(frozen=True)
class Decision:
    """What a command produced: events for the stream, messages for the relay to publish."""

    events: list[Document] = field(default_factory=list)
    outgoing: list[Outgoing] = field(default_factory=list)


@dataclass(frozen=True)
class Saved:
    version: int
    stored: bool  # False when this commit id had been stored before (a redelivery)


Decide = Callable[[list[Document]], Decision]


class AggregateConflict(RuntimeError):
    """Too many writers on one aggregate at once; the caller may retry later."""


async def decide_and_save(
    store: EventStore, aggregate_id: str, commit_id: str, decide: Decide, *, attempts: int = 8
) -> Saved:
    """Run `decide` on the aggregate's past events and append its decision as one commit.

    `decide` must be pure and may raise a domain error, which propagates and stores nothing.
    """
    for attempt in range(attempts):
        commits = await store.load(aggregate_id)
        done = [int(c["version"]) for c in commits if c.get("commit_id") == commit_id]
        if done:
            return Saved(version=done[0], stored=False)
        history = [event for commit in commits for event in commit["events"]]
        version = int(commits[-1]["version"]) + 1 if commits else 1
        decision = decide(history)
        if not decision.events:
            return Saved(version=version - 1, stored=False)
        try:
            stored = await store.append(
                commit_id=commit_id,
                aggregate_id=aggregate_id,
                version=version,
                events=decision.events,
                outgoing=decision.outgoing,
            )
        except ConcurrencyConflict:
            # Back off a little, with jitter, so racing writers do not collide again in lockstep.
            await asyncio.sleep(random.uniform(0, 0.01 * 2**attempt))
            continue
        return Saved(version=version, stored=stored)
    raise AggregateConflict(f"{aggregate_id}: gave up after {attempts} concurrent-write conflicts")

"""The outbox relay: publishes stored commits to Kafka in per-aggregate order, then deletes their outbox entries.

Only the lease holder relays, so one replica publishes and deletes. A crash between publish and delete
republishes those events: delivery is at least once and consumers are idempotent.

Followers are a service's follow-ups of its own commits (projections, timers): after a batch is published and
before its entries are deleted, each follower gets the entries (with the `committed` keys). An entry stays until
its followers are done, so a crash between a commit and its follow-ups delays them to the next relay run (in this
process or the one that restarts) and never loses them; followers must therefore be idempotent.

A follower that raises does not hold the outbox: the batch is retried `follow_attempts` times with doubling
backoff, then its entries are followed one at a time, and an entry whose follow-up fails on its own is parked (a
document on `_id` in `relay_followups_parked`, `xueji_relay_follow_up_failed_total`, an error log
`relay_follow_up_parked`) and the relay moves on. Its events were published all the same: the relay never drops an
event, only a follow-up waits, for `python -m xueji_kit.followups requeue` after the fix. A store outage is not a
failing follower: the batch stays in the outbox and is tried again when the store is back.

A graceful stop (the task cancelled by the service's shutdown) lets the turn under way finish, for up to `drain`
seconds: what it published is followed and deleted before the process exits, so a restart does not publish it
again. Only a crash, or a turn stuck longer than that, leaves published entries behind; they are published again
as the same stored messages (same message id), which consumers drop as already seen.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pymongo
import structlog

from xueji_kit.event_store import EventStore
from xueji_kit.followups import ParkedFollowUps
from xueji_kit.lease import SlotLease
from xueji_kit.metrics import RELAY_BACKLOG, RELAY_FOLLOW_UP_FAILED, RELAY_IS_LEADER, RELAY_PUBLISHED
from xueji_kit.store import store_away

Publish = Callable[[str, str, dict[str, Any]], Awaitable[Awaitable[Any]]]
# A turn's messages at once (topic, key, message), in order per partition; their acknowledgements to await.
PublishAll = Callable[[list[tuple[str, str, Any]]], Awaitable[list[Awaitable[Any]]]]
Follower = Callable[[list[dict[str, Any]]], Awaitable[None]]
log = structlog.get_logger("relay")


def follower_name(follow: Follower) -> str:
    """A follower's name in logs, metrics and parked ids: its function's, or its class's for a callable object."""
    kind: Any = follow if hasattr(follow, "__qualname__") else type(follow)
    return f"{kind.__module__}.{kind.__qualname__}"


class OutboxRelay:
    def __init__(
        self,
        store: EventStore,
        lease: SlotLease,
        publish: Publish,
        *,
        publish_all: PublishAll | None = None,
        batch_size: int,
        interval: float,
        follow_attempts: int = 3,
        follow_backoff: float = 0.2,
        drain: float = 5.0,
    ) -> None:
        self._store = store
        self.parked = ParkedFollowUps(store.collection.database, store.outbox.name)
        self._follow_attempts = follow_attempts
        self._follow_backoff = follow_backoff
        self._drain = drain
        self._lease = lease
        self._publish = publish
        self._publish_all = publish_all
        self._batch_size = batch_size
        self._interval = interval
        self._wake = asyncio.Event()
        self.followers: list[Follower] = []

    def nudge(self) -> None:
        """Something was just stored: relay now instead of at the next interval."""
        self._wake.set()

    async def run_once(self, now: datetime | None = None) -> int:
        held = await self._lease.holds(now or datetime.now(UTC))
        RELAY_IS_LEADER.set(1 if held else 0)
        self._store.relayed_here = held
        if not held:
            self._store.stored_here.clear()  # the lease holder confirms these by their commits
            return 0
        with pymongo.timeout(0):  # the outbox read sends its own getMore: no maxTimeMS (`store.connect`)
            commits = await self._store.unpublished(self._batch_size)
        RELAY_BACKLOG.set(len(commits))
        # Send everything first, then wait for every acknowledgement: the producer keeps
        # per-partition order, and no entry leaves the outbox before the broker has it.
        messages = [(out["topic"], out["key"], out["message"]) for commit in commits for out in commit["outgoing"]]
        if self._publish_all is not None:
            pending = await self._publish_all(messages)
        else:
            pending = [await self._publish(topic, key, message) for topic, key, message in messages]
        for topic, published in Counter(topic for topic, _, _ in messages).items():  # once a topic, not a message
            RELAY_PUBLISHED.labels(topic).inc(published)
        for ack in pending:
            await ack
        if commits:
            for follow in self.followers:
                await self._follow(follow, commits)
        await self._store.delete_published([c["_id"] for c in commits])
        return len(messages)  # a full batch means more may be waiting

    async def _follow(self, follow: Follower, commits: list[dict[str, Any]]) -> None:
        """The batch, retried with doubling backoff; still failing, each entry on its own, and an entry that fails
        on its own is parked. Bounded: a follower failing on every entry costs one call per entry, no waits."""
        delay = self._follow_backoff
        for attempt in range(1, self._follow_attempts + 1):
            try:
                await follow(commits)
                return
            except Exception as exc:
                if store_away(exc):
                    raise  # the store is away or out of time: the batch stays in the outbox
                log.warning("relay_follow_up_failed", follower=follower_name(follow), entries=len(commits),
                            attempt=attempt, error_type=type(exc).__name__, error=str(exc)[:500])  # fmt: skip
                failure: Exception = exc
            if attempt < self._follow_attempts:
                await asyncio.sleep(delay)
                delay *= 2
        if len(commits) == 1:
            await self._park(follow, commits[0], failure)
            return
        for entry in commits:
            try:
                await follow([entry])
            except Exception as exc:
                if store_away(exc):
                    raise
                await self._park(follow, entry, exc)

    async def _park(self, follow: Follower, entry: dict[str, Any], error: Exception) -> None:
        name = follower_name(follow)
        parked = await self.parked.park(name, entry, error, self._follow_attempts + 1)
        RELAY_FOLLOW_UP_FAILED.labels(name).inc()
        log.error("relay_follow_up_parked", follower=name, parked_id=parked, error_type=type(error).__name__,
                  error=str(error)[:500])  # fmt: skip

    async def run_forever(self) -> None:
        here = asyncio.current_task()
        name = here.get_name() if here is not None else None  # the turn's store commands keep the job's name
        while True:
            turn = asyncio.create_task(self.run_once(), name=name)
            try:
                # Shielded: a stop must not cut a turn between its publishes and their outbox deletes.
                published = await asyncio.shield(turn)
            except asyncio.CancelledError:
                await self._finish(turn)
                raise
            except Exception as exc:  # keep relaying after a broker or store hiccup
                log.warning("relay_failed", error=str(exc))
                published = 0
            if published >= self._batch_size:
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._interval)

    async def _finish(self, turn: asyncio.Task[int]) -> None:
        """On a stop: the turn under way gets `drain` seconds to delete what it published, then is cut."""
        try:
            await asyncio.wait({turn}, timeout=self._drain)
        finally:  # also when the wait itself is cancelled: never leave the turn running behind the stop
            if not turn.done():
                turn.cancel()
                log.warning("relay_stopped_mid_turn", drain_seconds=self._drain)
            elif not turn.cancelled() and (error := turn.exception()) is not None:
                log.warning("relay_failed", error=str(error))

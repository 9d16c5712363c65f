"""The outbox relay: publishes stored commits to Kafka in per-aggregate order, then deletes their outbox entries.

Only the lease holder relays, so one replica publishes and deletes. A crash between publish and delete
republishes those events: delivery is at least once and consumers are idempotent.

Followers are a service's follow-ups of its own commits (projections, timers): after a batch is published and
before its entries are deleted, each follower gets the entries (with the `committed` keys). An entry stays until
its followers are done, so a crash between a commit and its follow-ups delays them to the next relay run (in this
process or the one that restarts) and never loses them; followers must therefore be idempotent.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import structlog

from xueji_kit.lease import SlotLease
from xueji_kit.metrics import RELAY_BACKLOG, RELAY_IS_LEADER, RELAY_PUBLISHED
from xueji_kit.store import EventStore

Publish = Callable[[str, str, dict[str, Any]], Awaitable[Awaitable[Any]]]
Follower = Callable[[list[dict[str, Any]]], Awaitable[None]]
log = structlog.get_logger("relay")


class OutboxRelay:
    def __init__(
        self, store: EventStore, lease: SlotLease, publish: Publish, *, batch_size: int, interval: float
    ) -> None:
        self._store = store
        self._lease = lease
        self._publish = publish
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
        commits = await self._store.unpublished(self._batch_size)
        RELAY_BACKLOG.set(len(commits))
        # Send everything first, then wait for every acknowledgement: the producer keeps
        # per-partition order, and nothing is marked published before the broker has it.
        pending: list[Awaitable[Any]] = []
        for commit in commits:
            for out in commit["outgoing"]:
                pending.append(await self._publish(out["topic"], out["key"], out["message"]))
                RELAY_PUBLISHED.labels(out["topic"]).inc()
        for ack in pending:
            await ack
        if commits:
            for follow in self.followers:
                await follow(commits)
        await self._store.mark_published([c["_id"] for c in commits])
        return len(pending)  # messages: a full batch means more may be waiting

    async def run_forever(self) -> None:
        while True:
            try:
                published = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # keep relaying after a broker or store hiccup
                log.warning("relay_failed", error=str(exc))
                published = 0
            if published >= self._batch_size:
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._interval)

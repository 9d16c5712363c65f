"""Where each caller's Idempotency-Key is kept: one document on `_id` holding what the first request was (its
fingerprint), whether it still runs, and its answer once it has one.

A running request refreshes its claim every `beat` seconds; a claim not refreshed for `stale` seconds was left by a
crash (or a lost store write) and the next retry takes it over. A conditional replace alone would not decide who
takes it (FerretDB 1.x reads, then writes: two retries racing for an abandoned claim could both match), so a taker
first inserts a marker whose `_id` names the claim as it found it (state, last beat, first request): the unique `_id`
lets one retry win, the others see the winner's fresh claim and wait for its answer. Markers expire and are pruned as
keys.
Every write route is also idempotent on its own once a key is given (commit ids and correlations derived from the
key); the claim is what makes the *answer* the first one and refuses a key reused for another request.

Keys expire `kept` after their first request (24 h by default, `XUEJI_IDEMPOTENCY_KEPT_HOURS`; the IETF draft lets a
server expire keys): an expired key is treated as absent, so a request reusing it runs as new (routes that derive
their ids from the key may still recognise it). Reuses racing for one expired key take it over as a crashed claim is
taken over, by the marker: one runs, the others wait for its answer. The store has no TTL index (FerretDB on SQLite)
and reads a whole collection for any filter other than `_id`, so expired keys are removed off the request path:
`prune_expired_keys`, a background job, once an hour, at most `limit` keys a turn from one scan, deleted `chunk` at a
time by `_id`.
The request path (claim, beat, answer, release) selects by `_id` only.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import structlog
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import PyMongoError

from xueji_kit.background import keep_running
from xueji_kit.store import Document, insert_once

COLLECTION = "idempotency_keys"
KEPT = timedelta(hours=24)
log = structlog.get_logger("idempotency")


@dataclass(frozen=True)
class Claim:
    """What a request with a key does: run the route, replay the first answer, or be refused."""

    outcome: Literal["run", "replay", "reused", "in_flight"]
    answer: dict[str, Any] | None = None


class KeyClaims:
    def __init__(
        self,
        collection: AsyncCollection[Document],
        holder: str,
        *,
        beat: float = 1.0,
        stale: float = 5.0,
        wait: float = 8.0,
        kept: timedelta = KEPT,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.collection = collection
        self.holder = holder
        self.beat_seconds = beat
        self.stale = timedelta(seconds=stale)
        self.wait = wait
        self.kept = kept
        self.clock = clock

    async def claim(self, key_id: str, fingerprint: str, about: dict[str, Any]) -> Claim:
        """Run (the claim is ours), replay (answered before), reused (another request's key) or in_flight (the
        first request still runs after `wait` seconds of waiting for it)."""
        loop = asyncio.get_running_loop()
        give_up = loop.time() + self.wait
        while True:
            now = self.clock()
            running = {"fingerprint": fingerprint, "state": "running", "holder": self.holder, "beat_at": now, **about}
            if await insert_once(self.collection, {"_id": key_id, "created_at": now, **running}):
                return Claim("run")
            found = await self.collection.find_one({"_id": key_id})
            if found is None:
                continue  # released and removed in between: try again
            takeover: tuple[Document, Document] | None = None  # the winner's write: which claim, and its own
            if found["created_at"] <= now - self.kept:
                # Expired, not yet pruned: as if it were not there, reused afresh by the one reuse that wins the
                # takeover marker (a delete and a new insert were two writes: a second reuse could remove the claim a
                # first had just made). Only that winner writes the key, so by `_id` alone.
                takeover = {"_id": key_id}, {"created_at": now, **running}
            elif found["fingerprint"] != fingerprint:
                return Claim("reused")
            elif found["state"] == "answered":
                return Claim("replay", found["answer"])
            elif found["state"] == "released" or now - found["beat_at"] > self.stale:
                # Abandoned: taken if still as found (a slow holder may yet beat).
                match = {"_id": key_id, "state": found["state"], "beat_at": found["beat_at"]}
                takeover = match, {"created_at": found["created_at"], **running}
            if takeover is not None and await self._won_takeover(key_id, found, now):
                if (await self.collection.replace_one(*takeover)).matched_count:
                    return Claim("run")
                continue  # pruned, or beaten, in between: look again
            # Running elsewhere, or taken over by another retry (whose claim is fresh once it is written).
            if loop.time() >= give_up:
                return Claim("in_flight")
            await asyncio.sleep(0.1)

    async def _won_takeover(self, key_id: str, found: Document, now: datetime) -> bool:
        """One taker per expired or abandoned claim: a marker naming the claim as found (its state, last beat and
        first request) is inserted once. If the marker's taker died before it wrote the key (the marker is older
        than `stale`), the next marker of the same claim may be won, so the key is not stuck behind it."""
        found_as = f"{found['state']}:{found['beat_at'].isoformat()}:{found['created_at'].isoformat()}"
        n = 0
        while not await insert_once(
            self.collection, {"_id": f"takeover:{key_id}:{found_as}:{n}", "created_at": now, "holder": self.holder}
        ):
            held = await self.collection.find_one({"_id": f"takeover:{key_id}:{found_as}:{n}"})
            if held is None or now - held["created_at"] <= self.stale:
                return False
            n += 1
        return True

    async def keep_alive(self, key_id: str) -> None:
        """Refresh the claim while its request runs (cancelled when it ends)."""
        while True:
            await asyncio.sleep(self.beat_seconds)
            with contextlib.suppress(PyMongoError):  # a store hiccup: the next beat tries again
                await self.collection.update_one(
                    {"_id": key_id}, {"$set": {"beat_at": self.clock(), "holder": self.holder}}
                )

    async def answered(self, key_id: str, answer: dict[str, Any]) -> None:
        await self.collection.update_one(
            {"_id": key_id}, {"$set": {"state": "answered", "answer": answer, "answered_at": self.clock()}}
        )

    async def release(self, key_id: str) -> None:
        """The request failed (5xx, an exception): a retry with the same request runs it again; the fingerprint
        stays, so the key still refuses another request."""
        await self.collection.update_one({"_id": key_id}, {"$set": {"state": "released"}})

    async def prune(self, *, limit: int = 10_000, chunk: int = 500) -> int:
        """Remove up to `limit` expired keys: one scan for their ids, then deletes of `chunk` ids each, each delete
        again requiring expiry (a key reused as new in between stays). Returns how many were removed."""
        cutoff = self.clock() - self.kept
        expired = self.collection.find({"created_at": {"$lte": cutoff}}, {"_id": 1}).limit(limit)
        ids = [doc["_id"] async for doc in expired]
        removed = 0
        for start in range(0, len(ids), chunk):
            batch = ids[start : start + chunk]
            result = await self.collection.delete_many({"_id": {"$in": batch}, "created_at": {"$lte": cutoff}})
            removed += result.deleted_count
        if removed:
            log.info("idempotency_keys_pruned", removed=removed, more=len(ids) == limit)
        return removed


async def prune_expired_keys(claims: KeyClaims, *, every: float = 3600.0) -> None:
    """The background job: prune expired keys every `every` seconds (the first turn at start-up)."""
    await keep_running(claims.prune, every=every, log=log, failed="idempotency_prune_failed")

"""Where each caller's Idempotency-Key is kept: one document on `_id` holding what the first request was (its
fingerprint), whether it still runs, and its answer once it has one.

A running request refreshes its claim every `beat` seconds; a claim not refreshed for `stale` seconds was left by a
crash (or a lost store write) and the next retry takes it over. Taking over is a read then a conditional replace,
which FerretDB 1.x does not make atomic: two retries racing for an abandoned claim may both run. That is tolerated
because every write route is idempotent on its own once a key is given (commit ids and correlations derived from
the key); the claim is what makes the *answer* the first one and refuses a key reused for another request.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import PyMongoError

from xueji_kit.store import Document, insert_once

COLLECTION = "idempotency_keys"


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
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.collection = collection
        self.holder = holder
        self.beat_seconds = beat
        self.stale = timedelta(seconds=stale)
        self.wait = wait
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
            if found["fingerprint"] != fingerprint:
                return Claim("reused")
            if found["state"] == "answered":
                return Claim("replay", found["answer"])
            if found["state"] == "released" or now - found["beat_at"] > self.stale:
                taken = await self.collection.replace_one(
                    {"_id": key_id, "state": found["state"], "beat_at": found["beat_at"]},
                    {"created_at": found["created_at"], **running},
                )
                if taken.matched_count:
                    return Claim("run")
                continue
            if loop.time() >= give_up:
                return Claim("in_flight")
            await asyncio.sleep(0.1)

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

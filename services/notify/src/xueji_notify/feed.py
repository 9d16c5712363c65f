"""Tells connected dashboard pages which nodes' counts changed, whichever replica recounted them.

The aggregator's leader records each round's changed nodes under the second it wrote them; every
replica polls those seconds (an equality lookup) and fans the nodes out to its own pages. One poll per
replica per interval, however many pages are open.
"""

from __future__ import annotations

import asyncio
import time

import structlog

from xueji_kit.background import keep_running
from xueji_notify.metrics import SSE_CLIENTS
from xueji_notify.store import DashboardStore

log = structlog.get_logger("notify.feed")
REREAD_SECONDS = 5  # replicas' clocks differ a little, and a write may land in a second already read


class ChangeFeed:
    def __init__(self, store: DashboardStore, interval: float) -> None:
        self._store = store
        self._interval = interval
        self._pages: set[asyncio.Queue[list[str]]] = set()
        self._seen: dict[str, int] = {}

    def subscribe(self) -> asyncio.Queue[list[str]]:
        queue: asyncio.Queue[list[str]] = asyncio.Queue(maxsize=100)
        self._pages.add(queue)
        SSE_CLIENTS.set(len(self._pages))
        return queue

    def unsubscribe(self, queue: asyncio.Queue[list[str]]) -> None:
        self._pages.discard(queue)
        SSE_CLIENTS.set(len(self._pages))

    async def poll_once(self, now_second: int) -> list[str]:
        changed: list[str] = []
        for second in range(now_second - REREAD_SECONDS, now_second + 1):
            for doc in await self._store.changes_at(second):
                if doc["_id"] not in self._seen:
                    self._seen[doc["_id"]] = second
                    changed += doc["nodes"]
        self._seen = {k: s for k, s in self._seen.items() if s >= now_second - 2 * REREAD_SECONDS}
        if changed:
            nodes = list(dict.fromkeys(changed))
            for queue in list(self._pages):
                if queue.full():  # a page that stopped reading: it reloads everything when it reconnects
                    queue.get_nowait()
                queue.put_nowait(nodes)
        return changed

    async def run_forever(self) -> None:
        await keep_running(
            lambda: self.poll_once(int(time.time())), every=self._interval, log=log, failed="dashboard_feed_failed"
        )

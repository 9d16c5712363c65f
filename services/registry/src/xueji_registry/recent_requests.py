"""The enrollment requests a replica stored lately, waiting for their verdicts (R14); and the wait of a class upload
while too many do (issue 19: a province's intake recorded as it arrives, not after it)."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict

import structlog

from xueji_registry.domain.enrollment_request import EnrollmentRequested

log = structlog.get_logger("registry.recent_requests")
POLL_SECONDS = 0.02


class RecentRequests:
    """The enrollment requests this replica stored lately, by student id, until their verdicts take them. The verdict
    completing one usually comes back within seconds, to this replica, and reading the request back from the store
    would cost a lookup per student of a class; a verdict for a request stored elsewhere (another replica, before a
    restart, or after `fresh_seconds`) reads it.

    Kept as they are (about 3.5 KB a request): a class upload waits while `room` says too many wait (the bulk import
    keeps some thousands waiting, not the whole intake), so `size` bounds only what an outage of dedupe leaves here.
    Kept as JSON they cost a dump and a parse with its ID check per student (4% of the registry's CPU in a bulk
    import)."""

    def __init__(self, size: int = 20_000, fresh_seconds: float = 600.0) -> None:
        self.size = size
        self.fresh_seconds = fresh_seconds
        self._requested: OrderedDict[str, tuple[float, EnrollmentRequested]] = OrderedDict()

    def keep(self, student_id: str, requested: EnrollmentRequested) -> None:
        self._requested[student_id] = (time.monotonic(), requested)
        self._requested.move_to_end(student_id)
        while len(self._requested) > self.size:
            self._requested.popitem(last=False)

    def take(self, student_id: str) -> EnrollmentRequested | None:
        kept = self._requested.pop(student_id, None)
        return None if kept is None else kept[1]

    def waiting(self) -> int:
        """Requests kept here whose verdicts have not come back yet; one kept longer than `fresh_seconds` is no
        longer counted, nor kept (its verdict, if it ever comes, reads it back)."""
        stale = time.monotonic() - self.fresh_seconds
        while self._requested:
            kept_at, _ = next(iter(self._requested.values()))
            if kept_at >= stale:
                break
            self._requested.popitem(last=False)
        return len(self._requested)

    async def room(self, bound: int, at_most: float) -> bool:
        """Wait while `bound` or more requests wait for their verdicts, at most `at_most` seconds; False: waited that
        long (dedupe or this replica's verdict consumer is stalled: the upload goes on, as it did without a bound)."""
        if bound <= 0 or self.waiting() < bound:
            return True
        until = time.monotonic() + at_most
        while self.waiting() >= bound:
            if time.monotonic() >= until:
                log.warning("enrollment_backlog_wait_expired", waiting=len(self._requested), bound=bound)
                return False
            await asyncio.sleep(POLL_SECONDS)
        return True

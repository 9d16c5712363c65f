"""The verdicts waiting for this replica, and the wait of a class upload while too many do (issue 19).

A province's intake uploaded at once was all requested before most of it was recorded: uploads and dedupe outran
the verdicts' consumer, and the records then followed alone, on one core, with the rest of the machine idle. A class
upload now writes its next rows only while fewer verdicts than a bound wait in this replica's partitions of
dedupe.verdict.v1 (fetched or on the broker, not yet handed to the handler), so the records keep pace with the
requests. Counted from the consumer's own positions and the partitions' ends as last fetched: no store command and
no broker request. Verdicts go to whichever replica holds their partition, so each replica bounds what waits for it;
one that holds none waits for nothing."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import structlog

log = structlog.get_logger("registry.backlog")
POLL_SECONDS = 0.05
POSITION_SECONDS = 1.0  # a position not known at once (being reset) is left out, never waited for long


class VerdictBacklog:
    def __init__(self, broker: Any, topic: str, group: str) -> None:
        self.broker = broker
        self.topic = topic
        self.group = group

    def _consumers(self) -> list[Any]:
        found = []
        for subscriber in self.broker.subscribers:
            consumer = getattr(subscriber, "consumer", None)
            if consumer is not None and str(getattr(subscriber, "group_id", None) or "") == self.group:
                found.append(consumer)
        return found

    async def waiting(self) -> int:
        """Verdicts in this replica's partitions past what was handed to the handler (0 before the first fetch)."""
        count = 0
        for consumer in self._consumers():
            for partition in consumer.assignment():
                end = consumer.highwater(partition) if partition.topic == self.topic else None
                if end is None:
                    continue
                with contextlib.suppress(Exception):  # reassigned meanwhile (that replica counts it now), or unknown
                    count += max(0, end - await asyncio.wait_for(consumer.position(partition), POSITION_SECONDS))
        return count

    async def room(self, bound: int, at_most: float) -> bool:
        """Wait while `bound` or more verdicts wait, at most `at_most` seconds; False: waited that long (the verdicts'
        consumer is stalled: the upload goes on, as it did without a bound)."""
        if bound <= 0 or await self.waiting() < bound:
            return True
        until = time.monotonic() + at_most
        while (waiting := await self.waiting()) >= bound:
            if time.monotonic() >= until:
                log.warning("verdict_backlog_wait_expired", waiting=waiting, bound=bound)
                return False
            await asyncio.sleep(POLL_SECONDS)
        return True

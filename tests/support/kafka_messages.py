"""Reading what a service published, for tests of every service (the root conftest puts this folder on the path)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from aiokafka import AIOKafkaConsumer


async def published(
    bootstrap: str, topic: str, until: Callable[[list[dict[str, Any]]], bool], timeout: float = 20.0
) -> list[dict[str, Any]]:
    """Every message on `topic` from the start (JSON envelopes), once `until(messages)` holds: read on to the end of
    the topic as it is then (its partitions' end offsets once `until` holds), so a message that is not in the answer
    was not on the topic, even one published after those `until` waited for; fails after `timeout` seconds naming the
    topic and the types it got."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    found: list[dict[str, Any]] = []

    async def more() -> None:
        batches = await consumer.getmany(timeout_ms=300)
        found.extend(json.loads(r.value) for records in batches.values() for r in records)

    try:
        async with asyncio.timeout(timeout):
            while not until(found) or not consumer.assignment():
                await more()
            ends = await consumer.end_offsets(list(consumer.assignment()))
            while [p for p, end in ends.items() if await consumer.position(p) < end]:
                await more()
    except TimeoutError:
        got = [m.get("type") for m in found]
        what = "not read to its end" if until(found) else "condition not met"
        raise AssertionError(f"{topic}: {what} in {timeout} s; got {got}") from None
    finally:
        await consumer.stop()
    return found


async def sent_together(bootstrap: str, topic: str, bodies: list[bytes], key: bytes = b"k") -> None:
    """Send `bodies` to one partition (one key) in order and in one go, so a batch consumer fetches them together."""
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=200)
    await producer.start()
    try:
        await asyncio.gather(*[await producer.send(topic, body, key=key) for body in bodies])
    finally:
        await producer.stop()

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
    """Every message on `topic` from the start (JSON envelopes), once `until(messages)` holds; fails after `timeout`
    seconds naming the topic and the types it got."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    found: list[dict[str, Any]] = []
    try:
        async with asyncio.timeout(timeout):
            while not until(found):
                batches = await consumer.getmany(timeout_ms=300)
                found += [json.loads(r.value) for records in batches.values() for r in records]
    except TimeoutError:
        got = [m.get("type") for m in found]
        raise AssertionError(f"{topic}: condition not met in {timeout} s; got {got}") from None
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

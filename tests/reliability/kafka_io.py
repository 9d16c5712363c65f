"""Raw Kafka reads and writes for the reliability suite: bytes in, records out, nothing parsed on the way."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition


async def send_raw(
    bootstrap: str, topic: str, values: list[bytes], key: bytes | None = b"k", headers: list[Any] | None = None
) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, max_request_size=4 * 1024 * 1024)
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(topic, value, key=key, headers=headers or [])
    finally:
        await producer.stop()


async def records_of(
    bootstrap: str, topic: str, until: Callable[[list[Any]], bool], timeout: float = 30.0
) -> list[Any]:
    """Every record on `topic` from the start, once `until(records)` holds; fails after `timeout` seconds."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", fetch_max_bytes=8 * 1024 * 1024,
        max_partition_fetch_bytes=8 * 1024 * 1024,
    )  # fmt: skip
    await consumer.start()
    found: list[Any] = []
    try:
        async with asyncio.timeout(timeout):
            while not until(found):
                batches = await consumer.getmany(timeout_ms=300)
                found += [r for records in batches.values() for r in records]
    except TimeoutError:
        raise AssertionError(f"{topic}: condition not met in {timeout} s; got {len(found)} records") from None
    finally:
        await consumer.stop()
    return found


async def committed(bootstrap: str, group: str, topic: str) -> int:
    """The offset consumer group `group` has committed on partition 0 of `topic` (0 before its first commit)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        return await consumer.committed(TopicPartition(topic, 0)) or 0
    finally:
        await consumer.stop()

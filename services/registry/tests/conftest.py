"""Registry test fixtures: `dedupe_stub` stands in for the dedupe service, answering checks over Kafka."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from registry_driver import Answer, unique

from xueji_contracts.envelope import envelop
from xueji_contracts.topics import DEDUPE_CHECK, DEDUPE_VERDICT


async def _serve(consumer: AIOKafkaConsumer, producer: AIOKafkaProducer, topic: str, answer: Answer) -> None:
    async for record in consumer:
        request = json.loads(record.value)
        verdict = answer(request["payload"])
        if verdict is None:
            continue
        message = envelop(
            verdict,
            producer="dedupe-stub",
            province="35",
            occurred_at=datetime.now(UTC),
            correlation_id=uuid.UUID(request["correlation_id"]),
        )
        await producer.send_and_wait(topic, message.model_dump_json().encode(), key=record.key)


@contextlib.asynccontextmanager
async def _stub(isolation: Any, answer: Answer = unique, prefix: str | None = None) -> AsyncIterator[None]:
    prefix = isolation.topic_prefix if prefix is None else prefix
    consumer = AIOKafkaConsumer(
        prefix + DEDUPE_CHECK.name,
        bootstrap_servers=isolation.servers.kafka,
        group_id=f"{prefix}dedupe-stub",
        auto_offset_reset="earliest",
    )
    producer = AIOKafkaProducer(bootstrap_servers=isolation.servers.kafka, linger_ms=5)
    await consumer.start()
    await producer.start()
    task = asyncio.create_task(_serve(consumer, producer, prefix + DEDUPE_VERDICT.name, answer))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await consumer.stop()
        await producer.stop()


@pytest.fixture
def dedupe_stub(isolation: Any) -> Callable[..., Any]:
    """dedupe_stub(answer=unique, prefix=None) -> an async context in which checks on the topics under `prefix`
    (default: the test's) are answered by `answer(payload)`."""
    return lambda answer=unique, prefix=None: _stub(isolation, answer, prefix)

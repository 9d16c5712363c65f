"""A message already serialized (`Serialized`: a bulk entry's, its JSON encoded once) goes from the relay straight to
the broker client, past FastStream's publish path.

FastStream wraps every publish in a command object, its publish middlewares and its codec, which for a body that is
already bytes do nothing but pass it on: about a quarter of the relay's CPU in a bulk import (issue 19; the registry
publishes four messages a student). The record on the topic is the one FastStream would write, byte for byte, headers
in the same order (`test_relay`); anything else (a dict, a broker that is not connected, the test broker) still goes
through FastStream."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from aiokafka import AIOKafkaProducer
from faststream.kafka import KafkaBroker

from xueji_kit.outbox_entries import Serialized

JSON_TYPE = b"application/json"


def broker_client(broker: KafkaBroker) -> AIOKafkaProducer | None:
    """The started aiokafka producer under FastStream's broker; None before it is connected, after it stopped, or for
    a broker whose producer is not aiokafka's (FastStream's test broker)."""
    state = getattr(broker.config.producer, "_producer", None)
    if not state or state.closed:  # FastStream's empty state is falsy (its `producer` raises)
        return None
    producer = getattr(state, "producer", None)
    return producer if isinstance(producer, AIOKafkaProducer) else None


async def send_serialized(
    client: AIOKafkaProducer, topic: str, key: bytes, message: Serialized, headers: dict[str, str]
) -> Awaitable[Any]:
    """Send as FastStream sends bytes with `correlation_id` and `headers` (content type first, then the correlation
    id, then the rest); the acknowledgement to await."""
    sent = [("content-type", JSON_TYPE), ("correlation_id", message.correlation_id.encode())]
    sent += [(name, value.encode()) for name, value in headers.items() if name != "content-type"]
    ack: Awaitable[Any] = await client.send(topic, value=message.body, key=key, headers=sent)
    return ack

"""A relay turn's messages already serialized (`Serialized`: a bulk entry's, their JSON encoded once) go from the relay
straight to the broker client, in one batch per partition, past FastStream's publish path.

FastStream wraps every publish in a command object, its publish middlewares and its codec, which for a body that is
already bytes do nothing but pass it on; and aiokafka's `send` costs a metadata wait, a partitioner call, an
accumulator append and a future per message: 15 us of the client's CPU a message (22 us with aiokafka's own
partitioner), against 6.5 us for the same messages appended to one `create_batch` builder per partition and handed
over with `send_batch` (`bench/publish_cost.py`: 60,000 messages of 600 bytes, this machine). A bulk import publishes
five messages a student (issue 19).

The records on the topics are the ones FastStream writes, byte for byte, headers in the same order, in the same
partitions (`test_relay`). Order per partition is the relay's: builders are handed over in the order they were opened,
and a message that still goes through FastStream (a dict, a message too large for a batch) is sent only after every
builder opened before it. Anything else (a broker that is not connected, the test broker) goes through FastStream."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka import AIOKafkaProducer
from faststream.kafka import KafkaBroker

from xueji_kit.outbox_entries import Serialized
from xueji_kit.partitioning import partition_for

JSON_TYPE = b"application/json"
# One message of a turn: its topic (as the service names it), key, and what the relay read from the outbox.
Message = tuple[str, str, Any]
Send = Callable[[str, str, Any], Awaitable[Awaitable[Any]]]  # one message through FastStream; its acknowledgement


def broker_client(broker: KafkaBroker) -> AIOKafkaProducer | None:
    """The started aiokafka producer under FastStream's broker; None before it is connected, after it stopped, or for
    a broker whose producer is not aiokafka's (FastStream's test broker)."""
    state = getattr(broker.config.producer, "_producer", None)
    if not state or state.closed:  # FastStream's empty state is falsy (its `producer` raises)
        return None
    producer = getattr(state, "producer", None)
    return producer if isinstance(producer, AIOKafkaProducer) else None


def record_headers(message: Serialized, headers: dict[str, str]) -> list[tuple[str, bytes]]:
    """The headers FastStream gives bytes sent with `correlation_id` and `headers`: content type first, then the
    correlation id, then the rest."""
    sent = [("content-type", JSON_TYPE), ("correlation_id", message.correlation_id.encode())]
    return sent + [(name, value.encode()) for name, value in headers.items() if name != "content-type"]


async def send_in_batches(
    client: AIOKafkaProducer,
    messages: list[Message],
    topic_of: Callable[[str], str],
    headers_of: Callable[[str], dict[str, str]],
    send: Send,
) -> list[Awaitable[Any]]:
    """Publish a turn's messages in order per partition; the acknowledgements to await (one a batch, one a message
    sent alone). `topic_of` names a topic on the broker, `headers_of(province)` a message's province headers; `send`
    publishes one message through FastStream."""
    acks: list[Awaitable[Any]] = []
    open_: dict[tuple[str, int], Any] = {}  # (topic, partition) -> its builder, in the order opened

    async def hand_over() -> None:
        for (topic, partition), builder in open_.items():
            acks.append(await client.send_batch(builder, topic, partition=partition))
        open_.clear()

    partitions: dict[str, list[int]] = {}
    for name, key, message in messages:
        if not isinstance(message, Serialized):
            await hand_over()
            acks.append(await send(name, key, message))
            continue
        topic = topic_of(name)
        if topic not in partitions:
            partitions[topic] = sorted(await client.partitions_for(topic))
        key_bytes = key.encode()
        place = (topic, partition_for(key_bytes, partitions[topic], ()))
        headers = record_headers(message, headers_of(message.province))
        builder = open_.get(place)
        if builder is not None and builder.append(key=key_bytes, value=message.body, timestamp=None, headers=headers):
            continue
        if builder is not None:  # full: handed over, and a new one opened (after the others opened before it)
            await hand_over()
        builder = client.create_batch()
        if builder.append(key=key_bytes, value=message.body, timestamp=None, headers=headers) is None:
            await hand_over()  # larger than a batch: sent alone, as before (the broker client says what is wrong)
            acks.append(await client.send(place[0], message.body, key=key_bytes, headers=headers))
            continue
        open_[place] = builder
    await hand_over()
    return acks

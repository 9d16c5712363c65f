"""Offsets committed behind the work (issue 19): the consumer handles the next messages while the acks of the last
are outstanding, commits each message's offset only once its acks are in, and rewinds to a message whose publish
was not acknowledged. Over the real broker."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from faststream import AckPolicy, Context
from faststream.kafka import KafkaBroker

from xueji_contracts.envelope import envelop
from xueji_contracts.messages.status import StudentStatusRecorded
from xueji_kit.commits import commit_after
from xueji_kit.deadletter import make_dead_letter_middleware

pytestmark = pytest.mark.integration


async def _committed(bootstrap: str, group: str) -> int | None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    found = [o.offset for o in offsets.values() if o.offset >= 0]
    return found[0] if found else None


@pytest.fixture
async def topic(isolation: Any) -> str:
    name = isolation.topic("commits.v1")
    admin = AIOKafkaAdminClient(bootstrap_servers=isolation.servers.kafka)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, 1, 1)])
    finally:
        await admin.close()
    return name


def _status(n: int) -> bytes:
    payload = StudentStatusRecorded(
        student_id=f"stu_{n:08d}", school_code="3506020001", county_code="350602", state="enrolled",
        status_number_masked="G35060*********0012", grade=1, school_year=2026,
    )  # fmt: skip
    return envelop(payload, producer="test", province="35", occurred_at=datetime.now(UTC)).model_dump_json().encode()


async def _send(bootstrap: str, topic: str, *numbers: int) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for n in numbers:
            await producer.send_and_wait(topic, _status(n), key=b"k")
    finally:
        await producer.stop()


def _consumer(bootstrap: str, topic: str, group: str, acks_of: Any, seen: list[int], work: Any = None) -> KafkaBroker:
    broker = KafkaBroker(bootstrap, middlewares=[make_dead_letter_middleware(0)], logger=None)

    @broker.subscriber(topic, group_id=group, auto_offset_reset="earliest", ack_policy=AckPolicy.NACK_ON_ERROR)
    async def forward(body: Any, message: Any = Context("message")) -> None:
        seen.append(message.raw_message.offset)
        if work is not None:
            await work(message.raw_message.offset)
        await commit_after(message, acks_of(message.raw_message.offset))

    return broker


async def test_the_next_messages_are_handled_while_acks_are_outstanding_and_committed_only_after_them(
    isolation: Any, topic: str, wait_for: Any
) -> None:
    bootstrap, group = isolation.servers.kafka, f"{topic}.group"
    gates = {n: asyncio.get_running_loop().create_future() for n in range(3)}
    seen: list[int] = []
    broker = _consumer(bootstrap, topic, group, lambda offset: [gates[offset]], seen)
    await broker.start()
    try:
        await _send(bootstrap, topic, 0, 1, 2)
        await wait_for(lambda: len(seen) == 3)  # all three handled, none acknowledged yet
        await asyncio.sleep(1.0)
        assert await _committed(bootstrap, group) is None
        gates[1].set_result(None)  # the second's acks are in, the first's are not: nothing may be committed
        await asyncio.sleep(1.0)
        assert await _committed(bootstrap, group) is None
        gates[0].set_result(None)
        await wait_for(lambda: _is(bootstrap, group, 2))
        gates[2].set_result(None)
        await wait_for(lambda: _is(bootstrap, group, 3))
        assert seen == [0, 1, 2]
    finally:
        await broker.stop()


async def _is(bootstrap: str, group: str, offset: int) -> bool:
    return await _committed(bootstrap, group) == offset


async def test_a_publish_not_acknowledged_rewinds_the_consumer_to_that_message(
    isolation: Any, topic: str, wait_for: Any
) -> None:
    bootstrap, group = isolation.servers.kafka, f"{topic}.group"
    refused = asyncio.get_running_loop().create_future()
    refused.set_exception(RuntimeError("the broker refused the forward"))
    seen: list[int] = []

    def acks_of(offset: int) -> list[Any]:
        return [refused] if seen == [0] else []  # the first forward of message 0 is refused, every other one lands

    broker = _consumer(bootstrap, topic, group, acks_of, seen)
    await broker.start()
    try:
        await _send(bootstrap, topic, 0, 1, 2)
        await wait_for(lambda: _is(bootstrap, group, 3))
        # Rewound to 0 once its refusal was known: 0 forwarded again, then the others (those handled before the
        # rewind, again: at least once).
        again = seen.index(0, 1)
        assert seen[:again] == [0, 1, 2][:again] and seen[again:] == [0, 1, 2], seen
    finally:
        await broker.stop()


async def test_a_publish_not_acknowledged_on_the_last_message_is_forwarded_again_without_waiting_for_another(
    isolation: Any, topic: str, wait_for: Any
) -> None:
    """The last message before a quiet spell (the last batch of an import, the evening's last enrollment): its
    forward refused, it is consumed again at once, not when the next message arrives hours later."""
    bootstrap, group = isolation.servers.kafka, f"{topic}.group"
    refused = asyncio.get_running_loop().create_future()
    refused.set_exception(RuntimeError("the broker refused the forward"))
    seen: list[int] = []
    broker = _consumer(bootstrap, topic, group, lambda offset: [refused] if seen == [0] else [], seen)
    await broker.start()
    try:
        await _send(bootstrap, topic, 0)
        await wait_for(lambda: _is(bootstrap, group, 1), timeout=20)
        assert seen == [0, 0]
    finally:
        await broker.stop()


async def test_a_message_handled_while_the_one_before_it_failed_is_not_committed_past_it(
    isolation: Any, topic: str, wait_for: Any
) -> None:
    """The consumer rewinds as soon as a forward is refused, while the next message may still be in its handler:
    that one is consumed again after the rewind, and its offset is never committed before the refused message's
    second run is acknowledged (at least once)."""
    bootstrap, group = isolation.servers.kafka, f"{topic}.group"
    loop = asyncio.get_running_loop()
    first_ack, second_run_of_0 = loop.create_future(), asyncio.Event()
    seen: list[int] = []

    async def work(offset: int) -> None:
        if offset == 1 and seen == [0, 1]:  # message 0's forward is refused while message 1 is handled
            first_ack.set_exception(RuntimeError("the broker refused the forward"))
            await asyncio.sleep(1.0)

    def acks_of(offset: int) -> list[Any]:
        if seen == [0]:
            return [first_ack]
        if offset == 0:
            return [second_run_of_0.wait()]
        return []

    broker = _consumer(bootstrap, topic, group, acks_of, seen, work)
    await broker.start()
    try:
        await _send(bootstrap, topic, 0, 1)
        await wait_for(lambda: seen[:3] == [0, 1, 0], timeout=20)
        await asyncio.sleep(1.5)
        assert await _committed(bootstrap, group) is None, "never past message 0 before its second run is acknowledged"
        second_run_of_0.set()
        await wait_for(lambda: _is(bootstrap, group, 2), timeout=20)
        assert seen == [0, 1, 0, 1]
    finally:
        await broker.stop()

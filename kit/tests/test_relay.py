"""The outbox relay on the real broker and store: per-aggregate order, one leader, published marks."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaConsumer
from faststream.kafka import KafkaBroker

from xueji_contracts.envelope import envelop
from xueji_contracts.messages.status import StudentStatusRecorded
from xueji_contracts.topics import STUDENT_STATUS
from xueji_kit.lease import SlotLease
from xueji_kit.relay import OutboxRelay
from xueji_kit.store import EventStore, Outgoing, connect

pytestmark = pytest.mark.integration


def _outgoing(student: str, grade: int) -> Outgoing:
    payload = StudentStatusRecorded(
        student_id=student,
        school_code="3506020001",
        county_code="350602",
        state="enrolled",
        status_number_masked="G110105********002X",
        grade=grade,
        school_year=2026,
    )
    return Outgoing(
        STUDENT_STATUS.name, student, envelop(payload, producer="t", province="35", occurred_at=datetime.now(UTC))
    )


async def test_relay_publishes_in_order_once_and_only_the_leader_relays(isolation):
    client = connect(isolation.servers.mongodb)
    db = client[f"{isolation.database}_relay"]
    store = EventStore(db)
    await store.ensure_indexes()
    for grade in range(1, 6):
        for student in ("s1", "s2"):
            await store.append(
                commit_id=f"{student}-{grade}",
                aggregate_id=student,
                version=grade,
                events=[{"grade": grade}],
                outgoing=[_outgoing(student, grade)],
            )
    broker = KafkaBroker(isolation.servers.kafka)
    await broker.start()

    async def publish(topic, key, message):
        return await broker.publish(message, isolation.topic(topic), key=key.encode(), no_confirm=True)

    now = datetime.now(UTC)
    leader = OutboxRelay(store, SlotLease(db["leases"], "relay", "a"), publish, batch_size=100, interval=0.1)
    follower = OutboxRelay(store, SlotLease(db["leases"], "relay", "b"), publish, batch_size=100, interval=0.1)
    assert await leader.run_once(now) == 10
    assert await follower.run_once(now) == 0, "the follower does not hold the slot"
    assert await leader.run_once(now) == 0, "everything is marked published"
    await broker.stop()

    consumer = AIOKafkaConsumer(
        isolation.topic(STUDENT_STATUS.name), bootstrap_servers=isolation.servers.kafka, auto_offset_reset="earliest"
    )
    await consumer.start()
    grades: dict[str, list[int]] = {"s1": [], "s2": []}
    try:
        while sum(map(len, grades.values())) < 10:
            for records in (await consumer.getmany(timeout_ms=10_000)).values():
                for record in records:
                    payload = json.loads(record.value)["payload"]
                    grades[payload["student_id"]].append(payload["grade"])
    finally:
        await consumer.stop()
    assert grades == {"s1": [1, 2, 3, 4, 5], "s2": [1, 2, 3, 4, 5]}
    await client.close()

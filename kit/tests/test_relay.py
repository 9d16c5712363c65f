"""The outbox relay on the real broker and store: per-aggregate order, one leader, published entries deleted."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaConsumer
from faststream.kafka import KafkaBroker

from xueji_contracts.envelope import envelop
from xueji_contracts.messages.status import StudentStatusRecorded
from xueji_contracts.topics import STUDENT_STATUS
from xueji_kit.commit_documents import commit_key
from xueji_kit.event_store import EventStore
from xueji_kit.lease import SlotLease
from xueji_kit.outbox_entries import Outgoing, Serialized
from xueji_kit.relay import OutboxRelay, follower_name
from xueji_kit.store import connect

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


def _acknowledged_at_once(sent: list[dict]):
    """A publish the broker acknowledges at once; `sent` gets each message, with its key under "key"."""

    async def publish(topic, key, message):
        sent.append({**message, "key": key})

        async def acknowledged() -> None:
            return None

        return acknowledged()

    return publish


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
    assert await leader.run_once(now) == 0, "every published entry left the outbox"
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


async def test_a_follower_that_keeps_raising_parks_its_follow_up_and_the_outbox_drains(isolation):
    """A follow-up that fails forever is retried a few times, then parked (visible, counted, requeueable); every
    event is still published once, the outbox moves on, and a good follow-up afterwards runs."""
    from prometheus_client import REGISTRY

    from xueji_kit.followups import main as followups_cli

    client = connect(isolation.servers.mongodb)
    db = client[f"{isolation.database}_relay_park"]
    store = EventStore(db)
    await store.ensure_indexes()
    for student in ("s1", "bad", "s2"):
        await store.append(commit_id=f"{student}-1", aggregate_id=student, version=1, events=[{"grade": 1}],
                           outgoing=[_outgoing(student, 1)])  # fmt: skip
    sent: list[dict] = []
    publish = _acknowledged_at_once(sent)

    followed: list[str] = []
    broken = {"bad": True}

    async def follower(entries):
        streams = [str(k).partition("@")[0] for e in entries for k in e["committed"]]
        if broken["bad"] and "bad" in streams:
            raise RuntimeError("the school register refused bad's first commit")
        followed.extend(streams)

    relay = OutboxRelay(store, SlotLease(db["leases"], "relay", "a"), publish, batch_size=100, interval=0.1,
                        follow_attempts=3, follow_backoff=0.01)  # fmt: skip
    relay.followers.append(follower)
    name = follower_name(follower)
    failed = REGISTRY.get_sample_value("xueji_relay_follow_up_failed_total", {"follower": name}) or 0.0

    assert await relay.run_once() == 3
    assert sorted(m["key"] for m in sent) == ["bad", "s1", "s2"]  # every event published, the failing one's included
    assert await store.unpublished(100) == []  # the outbox moved on
    assert sorted(followed) == ["s1", "s2"]
    (parked,) = await relay.parked.listed()
    assert parked["_id"].startswith(f"{name}|") and parked["follower"] == name
    assert (parked["committed"], parked["error_type"], parked["attempts"]) == (
        [commit_key("bad", 1)],
        "RuntimeError",
        4,
    )
    assert REGISTRY.get_sample_value("xueji_relay_follow_up_failed_total", {"follower": name}) == failed + 1

    await store.append(commit_id="s3-1", aggregate_id="s3", version=1, events=[{"grade": 1}],
                       outgoing=[_outgoing("s3", 1)])  # fmt: skip
    assert await relay.run_once() == 1
    assert followed[-1] == "s3"  # a good follow-up afterwards runs at once

    # After the fix, the operator requeues it: followed again, nothing published twice.
    broken["bad"] = False
    env = {"MONGODB_URI": isolation.servers.mongodb, "XUEJI_MONGODB_DATABASE": db.name}
    with pytest.MonkeyPatch.context() as patch:
        for variable, value in env.items():
            patch.setenv(variable, value)
        assert await asyncio.to_thread(followups_cli, ["requeue", "--service", "registry"]) == 0
    assert await relay.run_once() == 0
    assert followed[-1] == "bad"
    assert await relay.parked.listed() == []
    assert sorted(m["key"] for m in sent) == ["bad", "s1", "s2", "s3"]
    await client.close()


async def test_a_graceful_stop_lets_the_turn_under_way_delete_what_it_published(isolation):
    """The service's shutdown cancels the relay while a follow-up of a published batch is running: the turn still
    finishes (followed, deleted), so a restarted relay publishes nothing again. Cut past `drain` (a crash is the
    same), the entry stays and is published again as the same stored message, with the same message id."""
    client = connect(isolation.servers.mongodb)
    db = client[f"{isolation.database}_relay_drain"]
    store = EventStore(db)
    await store.ensure_indexes()
    published: list[dict] = []
    publish = _acknowledged_at_once(published)

    following, release = asyncio.Event(), asyncio.Event()

    async def slow_follower(entries):
        following.set()
        await release.wait()  # a projection update still under way when the stop comes

    async def stop_while_following(relay: OutboxRelay) -> None:
        running = asyncio.create_task(relay.run_forever())
        await asyncio.wait_for(following.wait(), timeout=10)
        running.cancel()  # what ServiceRuntime.lifespan does on a graceful stop
        asyncio.get_running_loop().call_later(0.2, release.set)
        with pytest.raises(asyncio.CancelledError):
            await running

    await store.append(commit_id="s1-1", aggregate_id="s1", version=1, events=[{"grade": 1}],
                       outgoing=[_outgoing("s1", 1)])  # fmt: skip
    relay = OutboxRelay(store, SlotLease(db["leases"], "relay", "a"), publish, batch_size=100, interval=0.05)
    relay.followers.append(slow_follower)
    await stop_while_following(relay)
    assert await store.unpublished(100) == []  # deleted before the process went away
    restarted = OutboxRelay(store, SlotLease(db["leases"], "relay", "a"), publish, batch_size=100, interval=0.05)
    assert await restarted.run_once() == 0 and len(published) == 1

    # A stop that outlasts the drain (or a crash): the entry stays, and its second publish is the same message.
    following.clear()
    release.clear()
    await store.append(commit_id="s2-1", aggregate_id="s2", version=1, events=[{"grade": 1}],
                       outgoing=[_outgoing("s2", 1)])  # fmt: skip
    cut = OutboxRelay(store, SlotLease(db["leases"], "relay", "a"), publish, batch_size=100, interval=0.05, drain=0.05)
    cut.followers.append(slow_follower)
    running = asyncio.create_task(cut.run_forever())
    await asyncio.wait_for(following.wait(), timeout=10)
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    assert len(await store.unpublished(100)) == 1
    assert await restarted.run_once() == 1
    first, again = published[1], published[2]
    assert first["message_id"] == again["message_id"] and first == again
    await client.close()


async def test_a_relay_turns_hundreds_of_messages_leave_in_a_few_produce_requests(isolation, signing_keys, monkeypatch):
    """A relay turn publishes a class's messages at once (500 of ~1 KB). In the producer's default 16 KB batches that
    was dozens of produce requests per turn, each a round trip (idempotent: one in flight per partition) and work
    for the broker (Kafka's CPU per student of a bulk import)."""
    from aiokafka.client import AIOKafkaClient

    from xueji_kit.runtime import ServiceRuntime
    from xueji_kit.settings import ServiceSettings

    settings = ServiceSettings(**isolation.settings_env(), service_name="batches", jwt_public_key=signing_keys[1],
                               mongodb_database=f"{isolation.database}_batches")  # fmt: skip
    runtime = ServiceRuntime(settings, title="t", description="produce requests")
    requests = []
    send = AIOKafkaClient.send

    async def counted(self, node_id, request, **kwargs):
        if type(request).__name__.startswith("ProduceRequest"):
            requests.append(request)
        return await send(self, node_id, request, **kwargs)

    await runtime.broker.start()
    try:
        monkeypatch.setattr(AIOKafkaClient, "send", counted)
        messages = [_outgoing("s1", grade % 12 + 1).message.model_dump(mode="json") for grade in range(500)]
        acks = [await runtime._publish(STUDENT_STATUS.name, "s1", m) for m in messages]
        for ack in acks:
            await ack
    finally:
        await runtime.broker.stop()
    assert len(requests) <= 4, f"{len(requests)} produce requests for 500 messages"


async def test_a_bulk_entrys_messages_are_serialized_once_and_published_as_a_dict_would_be(
    isolation, signing_keys, monkeypatch
):
    """Issue 19: a bulk write's messages were dumped to dicts, encoded to JSON for the entry's packed value and encoded
    again by the broker client when published. Now once: the same bytes, content type and headers on the topic, and
    the packed value reads as before (a relay of an earlier version, or one reading the entry back, publishes it)."""
    import zlib

    import pydantic_core
    from pydantic import BaseModel

    from xueji_kit.event_store import NewStream
    from xueji_kit.outbox_entries import PACKED
    from xueji_kit.runtime import ServiceRuntime
    from xueji_kit.settings import ServiceSettings

    settings = ServiceSettings(**isolation.settings_env(), service_name="once", jwt_public_key=signing_keys[1],
                               mongodb_database=f"{isolation.database}_once")  # fmt: skip
    runtime = ServiceRuntime(settings, title="t", description="serialized once")
    outgoing = [_outgoing(f"s{i}", i % 12 + 1) for i in range(3)]
    as_dicts = [o.message.model_dump(mode="json") for o in outgoing]
    streams = [NewStream(f"c{i}", f"s{i}", [{"type": "Made"}], [o]) for i, o in enumerate(outgoing)]
    dumped = BaseModel.model_dump

    def not_again(self, *args, **kwargs):
        raise AssertionError(f"{type(self).__name__} dumped to a dict again")

    await runtime.broker.start()
    consumer = AIOKafkaConsumer(settings.topic(STUDENT_STATUS.name), bootstrap_servers=isolation.servers.kafka,
                                auto_offset_reset="earliest")  # fmt: skip
    await consumer.start()
    try:
        runtime.events.relayed_here = True
        monkeypatch.setattr(BaseModel, "model_dump", not_again)
        await runtime.events.start_many(streams)
        (entry,) = [e async for e in runtime.events.outbox.find({"_id": {"$regex": "^batch#"}})]
        packed = pydantic_core.from_json(zlib.decompress(entry[PACKED]))
        assert packed == {"commits": [commit_key(f"s{i}", 1) for i in range(3)], "aggregates": ["s0", "s1", "s2"],
                          "by_commit": [{"outgoing": [{"topic": STUDENT_STATUS.name, "key": f"s{i}", "message": m}]}
                                        for i, m in enumerate(as_dicts)]}  # fmt: skip
        assert await runtime.relay.run_once() == 3
        monkeypatch.setattr(BaseModel, "model_dump", dumped)
        ours = [await consumer.getone() for _ in range(3)]
        # Beside them, one published the way every other message is (a dict the broker client encodes).
        await (await runtime._publish(STUDENT_STATUS.name, "s0", as_dicts[0]))
        theirs = await consumer.getone()
    finally:
        await consumer.stop()
        await runtime.broker.stop()
        await runtime.events.collection.database.client.close()
    assert [r.key for r in ours] == [b"s0", b"s1", b"s2"]
    assert [json.loads(r.value) for r in ours] == as_dicts
    assert ours[0].value == theirs.value
    assert dict(ours[0].headers) == dict(theirs.headers)
    assert dict(theirs.headers)["content-type"] == b"application/json"
    assert dict(theirs.headers)["xueji-province-35"] == b"1"


async def test_a_bulk_entrys_messages_go_to_the_broker_client_in_batches_as_faststream_would_write_them(
    isolation, signing_keys, monkeypatch
):
    """Issue 19: FastStream's publish path (command, middlewares, codec) did nothing for a body already encoded, and
    aiokafka's `send` cost a metadata wait, a partitioner call, an accumulator append and a future per message (22 us
    of CPU a message against 6 us in a batch). A bulk entry's messages now go to the aiokafka producer in one batch per
    partition: neither FastStream's publish nor `send` is called, and each record is the one FastStream writes for the
    same message, headers in order, in the same partition."""
    from aiokafka import AIOKafkaProducer

    from xueji_kit.event_store import NewStream
    from xueji_kit.runtime import ServiceRuntime
    from xueji_kit.settings import ServiceSettings

    settings = ServiceSettings(**isolation.settings_env(), service_name="direct", jwt_public_key=signing_keys[1],
                               mongodb_database=f"{isolation.database}_direct")  # fmt: skip
    runtime = ServiceRuntime(settings, title="t", description="straight to the client")
    outgoing = [_outgoing(f"s{i}", i % 12 + 1) for i in range(12)]
    streams = [NewStream(f"c{i}", f"s{i}", [{"type": "Made"}], [o]) for i, o in enumerate(outgoing)]
    through_faststream, one_by_one = runtime.broker.publish, AIOKafkaProducer.send
    calls: list[str] = []

    async def counted(*args, **kwargs):
        calls.append("faststream")
        return await through_faststream(*args, **kwargs)

    async def sent_alone(self, *args, **kwargs):
        calls.append("send")
        return await one_by_one(self, *args, **kwargs)

    await runtime.broker.start()
    consumer = AIOKafkaConsumer(settings.topic(STUDENT_STATUS.name), bootstrap_servers=isolation.servers.kafka,
                                auto_offset_reset="earliest")  # fmt: skip
    await consumer.start()
    try:
        runtime.events.relayed_here = True
        monkeypatch.setattr(runtime.broker, "publish", counted)
        monkeypatch.setattr(AIOKafkaProducer, "send", sent_alone)
        await runtime.events.start_many(streams)
        assert await runtime.relay.run_once() == 12
        assert calls == []
        direct = [await consumer.getone() for _ in range(12)]
        monkeypatch.setattr(runtime.broker, "publish", through_faststream)
        monkeypatch.setattr(AIOKafkaProducer, "send", one_by_one)
        for o in outgoing:  # the same messages the way FastStream publishes them
            await (await runtime._publish(STUDENT_STATUS.name, o.key, Serialized.of(o.message)))
        faststream = [await consumer.getone() for _ in range(12)]
    finally:
        await consumer.stop()
        await runtime.broker.stop()
        await runtime.events.collection.database.client.close()
    key = lambda r: r.key  # noqa: E731
    assert sorted([(r.key, r.partition, r.value, list(r.headers)) for r in direct], key=lambda t: t[0]) == sorted(
        [(r.key, r.partition, r.value, list(r.headers)) for r in faststream], key=lambda t: t[0]
    )
    assert sorted(direct, key=key)[0].headers[0] == ("content-type", b"application/json")


async def test_a_turn_mixing_batched_and_faststream_messages_keeps_each_partitions_order(isolation, signing_keys):
    """A dict (FastStream's encoding) between serialized messages of the same key is sent only after the batch holding
    the ones before it, so the partition keeps the turn's order; a message too large for a batch is sent alone in its
    place."""
    from xueji_kit.runtime import ServiceRuntime
    from xueji_kit.settings import ServiceSettings

    settings = ServiceSettings(**isolation.settings_env(), service_name="mixed", jwt_public_key=signing_keys[1],
                               mongodb_database=f"{isolation.database}_mixed")  # fmt: skip
    runtime = ServiceRuntime(settings, title="t", description="order kept")
    made = [_outgoing("one-student", n % 12 + 1) for n in range(7)]
    big = made[5].message.model_copy(update={"payload": made[5].message.payload.model_copy(
        update={"school_code": "x" * (600 * 1024)})})  # fmt: skip
    turn: list[tuple[str, str, object]] = [
        (STUDENT_STATUS.name, "one-student", Serialized.of(made[0].message)),
        (STUDENT_STATUS.name, "one-student", Serialized.of(made[1].message)),
        (STUDENT_STATUS.name, "one-student", made[2].message.model_dump(mode="json")),
        (STUDENT_STATUS.name, "one-student", Serialized.of(made[3].message)),
        (STUDENT_STATUS.name, "one-student", made[4].message.model_dump(mode="json")),
        (STUDENT_STATUS.name, "one-student", Serialized.of(big)),
        (STUDENT_STATUS.name, "one-student", Serialized.of(made[6].message)),
    ]
    await runtime.broker.start()
    consumer = AIOKafkaConsumer(settings.topic(STUDENT_STATUS.name), bootstrap_servers=isolation.servers.kafka,
                                auto_offset_reset="earliest", max_partition_fetch_bytes=4 * 1024 * 1024)  # fmt: skip
    await consumer.start()
    try:
        for ack in await runtime._publish_all(turn):
            await ack
        seen = [json.loads((await consumer.getone()).value)["message_id"] for _ in range(7)]
    finally:
        await consumer.stop()
        await runtime.broker.stop()
        await runtime.events.collection.database.client.close()
    assert seen == [str(m.message.message_id) for m in made[:5]] + [
        str(big.message_id),
        str(made[6].message.message_id),
    ]

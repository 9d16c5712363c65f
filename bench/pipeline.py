"""Consume -> produce throughput: raw aiokafka (the baseline) against our FastStream pipeline
(envelope validation, idempotency on message id, dead-letter middleware) on the same broker.

Both read the same pre-filled topic with their own consumer group and write to their own output
topic; a run ends when every input message is consumed and every output is acknowledged.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
import uuid
from collections import OrderedDict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.partitioner import murmur2
from faststream import AckPolicy, Context
from faststream.kafka import KafkaBroker
from pydantic import TypeAdapter

from bench.servers import bench_servers
from xueji_contracts.envelope import Envelope, envelop
from xueji_contracts.messages.status import StudentStatusRecorded
from xueji_kit.batches import handle_batch, parsed
from xueji_kit.commits import commit_after
from xueji_kit.deadletter import make_dead_letter_middleware, parse_leniently

RESULTS = Path(__file__).resolve().parent / "results"
PARTITIONS = 3


def _message(i: int) -> bytes:
    payload = StudentStatusRecorded(
        student_id=f"stu_{i:08d}",
        school_code="3506020001",
        county_code="350602",
        state="enrolled",
        status_number_masked="G35060*********0012",
        grade=1 + i % 9,
        school_year=2026,
    )
    return envelop(payload, producer="bench", province="35", occurred_at=datetime.now(UTC)).model_dump_json().encode()


async def _prefill(bootstrap: str, topic: str, count: int) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=20, max_batch_size=512 * 1024)
    await producer.start()
    try:
        batch = []
        for i in range(count):
            batch.append(await producer.send(topic, _message(i), key=f"stu_{i:08d}".encode()))
            if len(batch) >= 5000:
                await asyncio.gather(*batch)
                batch.clear()
        await asyncio.gather(*batch)
    finally:
        await producer.stop()


async def run_raw(bootstrap: str, source: str, sink: str, count: int) -> float:
    """The baseline: bytes in, bytes out, nothing else."""
    consumer = AIOKafkaConsumer(
        source,
        bootstrap_servers=bootstrap,
        group_id=f"raw-{uuid.uuid4().hex[:6]}",
        auto_offset_reset="earliest",
        max_poll_records=1000,
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    await consumer.start()
    await producer.start()
    started = time.perf_counter()
    seen, acks = 0, []
    try:
        while seen < count:
            batches = await consumer.getmany(timeout_ms=1000, max_records=1000)
            for records in batches.values():
                for record in records:
                    acks.append(await producer.send(sink, record.value, key=record.key))
                    seen += 1
            if len(acks) > 5000:
                await asyncio.gather(*acks)
                acks.clear()
        await asyncio.gather(*acks)
        return time.perf_counter() - started
    finally:
        await consumer.stop()
        await producer.stop()


BATCH_BYTES = 1024 * 1024  # the producer's max_batch_size


def _fitting(bodies: list[bytes]) -> list[list[bytes]]:
    """`bodies` in as few parts as fit one producer batch each (a record costs its value and ~70 bytes of framing)."""
    parts: list[list[bytes]] = [[]]
    size = 0
    for body in bodies:
        if parts[-1] and size + len(body) + 70 > BATCH_BYTES * 0.9:
            parts.append([])
            size = 0
        parts[-1].append(body)
        size += len(body) + 70
    return parts


# The services' batch decoder (kit.batches, as ServiceRuntime.consumes(batch=...) runs it): every record judged
# alone, a current producer's message parsed once, the others through the contract policy, bad ones set aside.
DECODE = parsed(TypeAdapter(Envelope[StudentStatusRecorded]).validate_json)


async def _timed(broker: KafkaBroker, done: asyncio.Event) -> float:
    """Seconds from the broker's start until `done` (the last message handled); the broker is stopped after."""
    await broker.start()
    started = time.perf_counter()
    try:
        await asyncio.wait_for(done.wait(), timeout=600)
        return time.perf_counter() - started
    finally:
        await broker.stop()


async def run_pipeline(bootstrap: str, source: str, sink: str, count: int, overlap: bool = True) -> float:
    """Our pipeline: a FastStream batch subscriber as the services run one (lenient parser, kit batch decoder,
    dead-letter middleware, kit.batches.handle_batch: a malformed message dead-lettered alone with its reason),
    idempotency on message id, an order-preserving forward by the student's partition.

    `overlap`: as the services' consumers run (kit.commits): offsets committed in a group once the batch's forwards
    and dead letters are acknowledged, while the next batch is fetched and handled. Without it (the pipeline before
    issue 19's cut): each batch's acks awaited before the next fetch, offsets auto-committed."""
    broker = KafkaBroker(
        bootstrap, middlewares=[make_dead_letter_middleware(0)], linger_ms=5, logger=None, max_batch_size=BATCH_BYTES
    )
    done = asyncio.Event()
    recent: OrderedDict[uuid.UUID, None] = OrderedDict()
    state = {"seen": 0}

    @broker.subscriber(
        source,
        group_id=f"pipe-{uuid.uuid4().hex[:6]}",
        auto_offset_reset="earliest",
        batch=True,
        max_records=1000,
        parser=parse_leniently,
        decoder=DECODE,
        ack_policy=AckPolicy.NACK_ON_ERROR if overlap else AckPolicy.ACK_FIRST,
    )
    async def relay_status(statuses: list[Envelope[StudentStatusRecorded]], consumed: Any = Context("message")) -> None:
        bodies = {id(s): r.value for s, r in zip(statuses, consumed.parsed_records, strict=True)}
        acks: list[Any] = []

        async def forward(batch: list[Envelope[StudentStatusRecorded]]) -> None:
            by_partition: dict[int, list[bytes]] = {}
            for status in batch:
                if status.message_id in recent:  # a redelivery: already forwarded
                    continue
                recent[status.message_id] = None
                if len(recent) > 100_000:
                    recent.popitem(last=False)
                # Same partition as Kafka's default partitioner would pick for the key: per-student order holds.
                partition = (murmur2(status.payload.student_id.encode()) & 0x7FFFFFFF) % PARTITIONS
                by_partition.setdefault(partition, []).append(bodies[id(status)])
            # One Kafka batch per partition: aiokafka queues a partition's next batch only once the one before it
            # is on its way to the broker, so each extra batch of a partition waited a sender round (issue 19: the
            # forward in batches of 100 spent the quiet machine's time waiting there).
            acks.extend(
                [
                    await broker.publish_batch(*part, topic=sink, partition=p, no_confirm=True)
                    for p, bodies_of_partition in by_partition.items()
                    for part in _fitting(bodies_of_partition)
                ]
            )

        await handle_batch(broker, consumed, statuses, forward)
        state["seen"] += len(consumed.raw_message)
        if overlap:
            await commit_after(consumed, acks)  # the next batch is fetched while these are acknowledged
        else:
            await asyncio.gather(*acks)
        if state["seen"] >= count:
            await asyncio.gather(*acks)  # the run ends when every output is acknowledged
            done.set()

    return await _timed(broker, done)


async def run_per_message(bootstrap: str, source: str, sink: str, count: int) -> float:
    """For comparison: one typed FastStream handler call per message, as the services' consumers do."""
    broker = KafkaBroker(bootstrap, middlewares=[make_dead_letter_middleware(0)], linger_ms=5, logger=None)
    done = asyncio.Event()
    state = {"seen": 0}

    @broker.subscriber(source, group_id=f"one-{uuid.uuid4().hex[:6]}", auto_offset_reset="earliest")
    async def relay_one(message: Envelope[StudentStatusRecorded]) -> None:
        await broker.publish(
            message.model_dump(mode="json"), sink, key=message.payload.student_id.encode(), no_confirm=True
        )
        state["seen"] += 1
        if state["seen"] >= count:
            done.set()

    return await _timed(broker, done)


async def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="make bench")
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved raw/pipeline runs; medians reported")
    args = parser.parse_args(argv)
    with bench_servers() as (bootstrap, _mongo):
        tag = uuid.uuid4().hex[:6]
        source, raw_out, pipe_out = f"bench.{tag}.in", f"bench.{tag}.raw", f"bench.{tag}.pipeline"
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        await admin.create_topics([NewTopic(t, PARTITIONS, 1) for t in (source, raw_out, pipe_out, source + ".dlq")])
        await admin.close()
        print(f"bench: pre-filling {args.messages} messages ...", flush=True)
        await _prefill(bootstrap, source, args.messages)
        # Interleave the two so background load on the machine hits both alike; report medians.
        raw_rates, pipe_rates, waiting_rates, loads = [], [], [], []
        for _ in range(args.rounds):
            loads.append(round(os.getloadavg()[0], 2))
            raw_rates.append(args.messages / await run_raw(bootstrap, source, raw_out, args.messages))
            pipe_rates.append(args.messages / await run_pipeline(bootstrap, source, pipe_out, args.messages))
            waited = await run_pipeline(bootstrap, source, pipe_out, args.messages, overlap=False)
            waiting_rates.append(args.messages / waited)
        one_rate = args.messages / await run_per_message(bootstrap, source, pipe_out, args.messages)
    raw_rate, pipe_rate = statistics.median(raw_rates), statistics.median(pipe_rates)
    waiting_rate = statistics.median(waiting_rates)
    result: dict[str, Any] = {
        "benchmark": "consume_produce",
        "messages": args.messages,
        "raw_aiokafka_msgs_per_s": round(raw_rate),
        "xueji_pipeline_msgs_per_s": round(pipe_rate),
        "ratio": round(pipe_rate / raw_rate, 3),
        "pipeline_awaiting_each_batch_msgs_per_s": round(waiting_rate),
        "pipeline_awaiting_each_batch_ratio": round(waiting_rate / raw_rate, 3),
        "per_message_handler_msgs_per_s": round(one_rate),
        "per_message_ratio": round(one_rate / raw_rate, 3),
        "rounds": {
            "raw": [round(r) for r in raw_rates],
            "pipeline": [round(r) for r in pipe_rates],
            "pipeline_awaiting_each_batch": [round(r) for r in waiting_rates],
        },
        "load_average_1min_per_round": loads,
        "target_ratio": 0.5,
        "measured_at": datetime.now(UTC).isoformat(),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "consume_produce.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    print("PASS" if result["ratio"] >= 0.5 else "BELOW TARGET", "ratio >= 0.5 (pipeline / raw aiokafka)")

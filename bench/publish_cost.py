"""The broker client's CPU a published message: one `send` each (how the relay published until issue 19's twelfth
pass) against one `create_batch` builder per partition handed over with `send_batch` (how it publishes a bulk entry
now, `xueji_kit.direct_publish`). Interleaved rounds on the benchmark's own Kafka; `python -m bench.publish_cost`
writes bench/results/publish_cost.json."""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime

from aiokafka import AIOKafkaProducer

from bench.result_file import save_result
from bench.servers import ROOT, bench_servers
from xueji_kit.partitioning import partition_for
from xueji_kit.runtime import PRODUCER_BATCH_BYTES

MESSAGES, A_TURN = 60_000, 500  # a relay turn publishes a bulk entry: a class's 500 messages
HEADERS = [("content-type", b"application/json"), ("correlation_id", str(uuid.uuid4()).encode()),
           ("xueji-province", b"35"), ("xueji-province-35", b"1")]  # fmt: skip


async def _round(bootstrap: str, topic: str, batched: bool) -> float:
    """CPU microseconds of this process a message."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True,
                                max_batch_size=PRODUCER_BATCH_BYTES, partitioner=partition_for)  # fmt: skip
    await producer.start()
    body = json.dumps({"payload": "x" * 600}).encode()
    keys = [str(uuid.uuid4()).encode() for _ in range(MESSAGES)]
    try:
        await (await producer.send(topic, b"warm-up", key=b"w"))
        partitions = sorted(await producer.partitions_for(topic))
        started = time.process_time()
        for turn in range(0, MESSAGES, A_TURN):
            acks = []
            if not batched:
                acks = [
                    await producer.send(topic, body, key=key, headers=HEADERS) for key in keys[turn : turn + A_TURN]
                ]
            else:
                builders: dict[int, object] = {}
                for key in keys[turn : turn + A_TURN]:
                    partition = partition_for(key, partitions, ())
                    builder = builders.get(partition)
                    if builder is None or not builder.append(key=key, value=body, timestamp=None, headers=HEADERS):  # type: ignore[attr-defined]
                        if builder is not None:
                            acks.append(await producer.send_batch(builder, topic, partition=partition))
                        builder = builders[partition] = producer.create_batch()
                        builder.append(key=key, value=body, timestamp=None, headers=HEADERS)
                acks += [await producer.send_batch(b, topic, partition=p) for p, b in builders.items()]
            for ack in acks:
                await ack
        return (time.process_time() - started) / MESSAGES * 1e6
    finally:
        await producer.stop()


async def main(argv: list[str]) -> dict[str, object]:
    sys.path.insert(0, str(ROOT / "deploy" / "local" / "localstack"))
    import kafka_server

    rounds: dict[str, list[float]] = {"send": [], "batch": []}
    with bench_servers() as (bootstrap, _):
        topics = [f"publish-cost-{n}" for n in range(6)]
        kafka_server.create_topics(bootstrap, topics)
        for n, topic in enumerate(topics):
            kind = "send" if n % 2 == 0 else "batch"
            rounds[kind].append(round(await _round(bootstrap, topic, kind == "batch"), 1))
    result = {
        "benchmark": "publish_cost",
        "messages_a_round": MESSAGES,
        "cpu_us_a_message": {kind: statistics.median(values) for kind, values in rounds.items()},
        "rounds": rounds,
        "ratio_batch_to_send": round(statistics.median(rounds["batch"]) / statistics.median(rounds["send"]), 3),
        "measured_at": datetime.now(UTC).isoformat(),
    }
    return save_result("publish_cost", result)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))

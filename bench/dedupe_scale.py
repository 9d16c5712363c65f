"""Dedupe at scale: a single check's latency on a large index (p50/p99, the domain check plus the store round trip
the service makes to record its answer) and the batch audit (every record checked against all others through
blocking) in records per second, with the time it implies for 1,000,000 records."""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pymongo import AsyncMongoClient

from bench.servers import bench_servers
from xueji_dedupe.domain import CheckRequest
from xueji_dedupe.domain.check import check
from xueji_dedupe.domain.index import DedupeIndex
from xueji_dedupe.synthetic import generate

RESULTS = Path(__file__).resolve().parent / "results"


async def main(argv: list[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="make bench (dedupe at scale)")
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--probes", type=int, default=2000)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    dataset = generate(args.records, seed=11)
    generate_s = time.perf_counter() - started

    started = time.perf_counter()
    index = DedupeIndex()
    audited = 0
    for record in dataset.records:  # the batch audit: each record against those before it, through blocking
        check(index, CheckRequest.model_validate(record.model_dump()))
        index.upsert(record)
        audited += 1
    audit_s = time.perf_counter() - started
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    rng = random.Random(5)
    probes = [CheckRequest.model_validate(r.model_dump()) for r in rng.sample(dataset.records, args.probes)]
    latencies = []
    with bench_servers() as (_, mongo):
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo)
        answers = client[f"bench_dedupe_{uuid.uuid4().hex[:8]}"]["answers"]
        for probe in probes:
            t0 = time.perf_counter()
            verdict = check(index, probe.model_copy(update={"student_id": f"new-{uuid.uuid4().hex}"}))
            await answers.insert_one({"_id": uuid.uuid4().hex, "verdict": verdict.kind.value, "score": verdict.score})
            latencies.append(time.perf_counter() - t0)
        await client.drop_database(answers.database.name)
        await client.close()
    latencies.sort()
    rate = audited / audit_s
    result = {
        "benchmark": "dedupe_at_scale",
        "records": args.records,
        "generate_s": round(generate_s, 1),
        "batch_audit_s": round(audit_s, 1),
        "batch_audit_records_per_s": round(rate),
        "batch_audit_1m_estimate_s": round(1_000_000 / rate),
        "index_peak_rss_mb": round(rss_mb),
        "single_check_with_store_round_trip_ms": {
            "p50": round(statistics.median(latencies) * 1000, 2),
            "p99": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2),
            "probes": len(latencies),
            "index_size": len(index),
        },
        "targets": "single check p99 <= 20 ms on 1,000,000 records; batch audit of 1,000,000 in <= 120 s",
        "measured_at": datetime.now(UTC).isoformat(),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "dedupe_scale.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))

"""Bulk enrollment end to end: generated students uploaded through the registry's bulk endpoint, each asked of the
real dedupe service over Kafka, numbered, recorded and published, until every one is enrolled on student.status.v1.
Reported as students per second and as a ratio against a plain insert_many of the same rows into the same store."""

# Both services run in this process (their lifespans, the in-process HTTP transport), on the same broker and store.

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import io
import json
import logging
import multiprocessing
import os
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer
from pymongo import AsyncMongoClient

from bench import proc_cpu
from bench.result_file import save_result
from bench.servers import ROOT, SERVER_PIDS, bench_servers
from bench.synthetic.province import Children, School
from bench.synthetic.province import schools as province_schools
from bench.synthetic.regions import FUJIAN_COUNTIES
from xueji_contracts.auth import OperatorClaims, Role
from xueji_contracts.topics import DEDUPE_VERDICT, STUDENT_STATUS, all_topic_names
from xueji_dedupe.app import create_app as create_dedupe
from xueji_dedupe.settings import DedupeSettings
from xueji_kit import store_commands
from xueji_kit.security import mint_token
from xueji_registry.app import create_app as create_registry
from xueji_registry.settings import RegistrySettings


def students(n: int, at: list[School], seed: int = 7) -> dict[str, list[dict[str, str]]]:
    """`n` distinct first-graders of the synthetic province, spread over the schools `at`, as a clerk's rows."""
    children = Children(seed)
    by_school: dict[str, list[dict[str, str]]] = {s.code: [] for s in at}
    for i in range(n):
        school = at[i % len(at)]
        child = children.row(school, grade=1)
        by_school[school.code].append({
            "姓名": str(child["name"]), "性别": "男" if child["gender"] == "male" else "女",
            "出生日期": str(child["birth_date"]), "身份证件号": str(child["id_number"]), "年级": "1",
        })  # fmt: skip
    return by_school


def as_csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")


async def baseline(mongo: str, rows: list[dict[str, str]]) -> float:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo)
    collection = client[f"bench_baseline_{uuid.uuid4().hex[:8]}"]["students"]
    started = time.perf_counter()
    for start in range(0, len(rows), 1000):
        await collection.insert_many([dict(r) for r in rows[start : start + 1000]])
    seconds = time.perf_counter() - started
    await client.drop_database(collection.database.name)
    await client.close()
    return seconds


async def completed(
    bootstrap: str, prefix: str, n: int, limit: float, progress: float = 0
) -> tuple[float, Counter[str], int, bool]:
    """Wait until each of the `n` students has its verdict and, unless refused as a duplicate, its record on the
    public topic (enrolled, or waiting for county review); the time it happened, the verdicts by kind, the students
    done and whether `limit` seconds ran out first (then the counts so far are what is reported). Every
    `progress` seconds (0: never) the counts so far on stderr: a rate that falls as the run goes on shows there."""
    topics = [prefix + DEDUPE_VERDICT.name, prefix + STUDENT_STATUS.name]
    consumer = AIOKafkaConsumer(*topics, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    verdicts: dict[str, str] = {}
    recorded: set[str] = set()
    unrecorded: set[str] = set()  # a verdict that calls for a record, no record yet (kept as they come: the check
    # runs after every fetch, and walking 100,000 verdicts each time cost this process seconds of a run's CPU)

    def done() -> bool:
        return len(verdicts) >= n and not unrecorded

    shown = time.perf_counter()
    try:
        async with asyncio.timeout(limit):
            while not done():
                if progress and time.perf_counter() - shown >= progress:
                    shown = time.perf_counter()
                    print(f"progress: {len(verdicts)} verdicts, {len(recorded)} records, load {os.getloadavg()[0]:.1f}",
                          file=sys.stderr, flush=True)  # fmt: skip
                for records in (await consumer.getmany(timeout_ms=500, max_records=5000)).values():
                    for r in records:
                        payload = json.loads(r.value)["payload"]
                        student = payload["student_id"]
                        if r.topic.endswith(DEDUPE_VERDICT.name):
                            verdicts[student] = payload["verdict"]
                            if payload["verdict"] != "duplicate" and student not in recorded:
                                unrecorded.add(student)
                        else:
                            recorded.add(student)
                            unrecorded.discard(student)
    except TimeoutError:
        print(f"timed out: {len(verdicts)} verdicts, {len(recorded)} records", file=sys.stderr, flush=True)
    finally:
        await consumer.stop()
    kinds = Counter(verdicts.values())
    return time.monotonic(), kinds, len(recorded) + kinds["duplicate"], not done()


def _watch(bootstrap: str, prefix: str, n: int, limit: float, progress: float, answer: Any) -> None:
    """`completed` in a process of its own: the benchmark's consumer parses every verdict and record (200,000
    messages at 100,000 students), work that ran in the registry's process and was counted as the registry's CPU.
    Puts what `completed` returns and the CPU seconds this process used. Logs warnings only: a library imported with
    this module (hanzipy, through dedupe) sets the root logger to DEBUG, and the broker client then logged each fetch it
    made, formatted (megabytes of a run's output, and CPU taken on the cores the services share)."""
    logging.basicConfig(level=logging.WARNING, force=True)
    seen = asyncio.run(completed(bootstrap, prefix, n, limit, progress))
    answer.put((*seen, time.process_time()))


def per_student(log: store_commands.CommandLog, students: int) -> dict[str, Any]:
    """Store commands and documents (inserted, or statements of an update or delete) per student, by kind and
    collection, largest first, and the milliseconds the store took to answer them (the slowest kinds with their
    filter shape): where the store's time goes."""
    commands: Counter[str] = Counter()
    documents: Counter[str] = Counter()
    for c in log.commands:
        key = f"{c.kind} {store_commands.collection_kind(c.collection)}"
        commands[key] += 1
        documents[key] += c.statements
    slowest = sorted(log.seconds.items(), key=lambda kv: -kv[1])[:8]
    return {
        "store_ms": round(1000 * sum(log.seconds.values()) / students, 2),
        "store_ms_by_command": {k: round(1000 * v / students, 3) for k, v in slowest},
        "documents_read": round(sum(log.returned.values()) / students, 3),
        "documents_read_by_command": {k: round(v / students, 3) for k, v in log.returned.most_common(5)},
        "commands": round(sum(commands.values()) / students, 3),
        "documents": round(sum(documents.values()) / students, 3),
        "scanning_commands": round(sum(1 for c in log.commands if c.scans) / students, 4),
        "by_kind": {
            k: {"commands": round(commands[k] / students, 4), "documents": round(n / students, 3)}
            for k, n in documents.most_common()
            if n >= students / 100 or commands[k] >= students / 100
        },
    }


SERVED: dict[str, tuple[Any, Any]] = {
    "dedupe": (create_dedupe, DedupeSettings),
    "registry": (create_registry, RegistrySettings),
}


def _serve(service: str, settings: dict[str, Any], ready: Any, stop: Any, counts: Any) -> None:
    """A service in a process of its own (as deployed), so its CPU is told apart: dedupe, or a further registry
    replica. A replica shares the first one's consumer groups and store (the verdicts' partitions are shared as Kafka
    assigns them); uploads all go to the first replica (its in-process HTTP transport), as if the load balancer sent
    every school to it, so a replica reads back from the store each request the first one stored."""
    store_commands.install()
    create, settings_of = SERVED[service]

    async def serve() -> None:
        app = create(settings_of(**settings))
        with store_commands.counting(settings["mongodb_database"]) as log:
            async with app.router.lifespan_context(app):
                ready.set()
                await asyncio.to_thread(stop.wait)
            counts.put((log.commands, dict(log.seconds), log.returned))

    asyncio.run(serve())


async def main(argv: list[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="make bench (registry bulk import)")
    parser.add_argument("--students", type=int, default=2000)
    parser.add_argument("--schools", type=int, default=0, help="default: one per 500 students, at least 10")
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--progress", type=float, default=0, help="print the counts so far every N seconds")
    parser.add_argument("--result", default="registry_bulk", help="bench/results/<name>.json (a smaller run: another)")
    # Two replicas (the base deployment's minimum) measured 377.5 students/s at 30,000 against 735.4 for one: a
    # replica reads back, one lookup per student, each request the other one stored (docs/performance.md).
    parser.add_argument("--registry-replicas", type=int, default=1, help="registry processes (the first serves HTTP)")
    args = parser.parse_args(argv)
    store_commands.install()  # every client created from here on reports its commands
    # A school's intake is hundreds (R07 numbers a school's year 1..9999): spread the class over enough schools.
    schools_wanted = args.schools or max(10, args.students // 500)
    per_county = 2 * -(-schools_wanted // len(FUJIAN_COUNTIES))  # every other school of a county is a primary one
    primaries = [s for s in province_schools(per_county=per_county) if s.segment == "primary"]
    classes = students(args.students, primaries[:schools_wanted])
    schools = list(classes)
    sys.path.insert(0, str(ROOT / "deploy" / "local" / "localstack"))
    import kafka_server
    from keys import ensure_keys

    spawn = multiprocessing.get_context("spawn")
    with bench_servers() as (bootstrap, mongo), tempfile.TemporaryDirectory() as keydir:
        private, public = (p.read_text() for p in ensure_keys(Path(keydir)))
        run = f"bench{uuid.uuid4().hex[:6]}"
        prefix = f"{run}."
        kafka_server.create_topics(bootstrap, [prefix + t for t in all_topic_names()])
        insert_s = await baseline(mongo, [r for rows in classes.values() for r in rows])
        common = {"kafka_bootstrap_servers": bootstrap, "mongodb_uri": mongo, "topic_prefix": prefix,
                  "jwt_public_key": public, "log_level": "WARNING"}  # fmt: skip
        dedupe_settings = {**common, "mongodb_database": f"{run}_dedupe", "national_enabled": False}
        ready, stop, dedupe_counts = spawn.Event(), spawn.Event(), spawn.Queue()
        dedupe = spawn.Process(target=_serve, args=("dedupe", dedupe_settings, ready, stop, dedupe_counts))
        dedupe.start()
        if not await asyncio.to_thread(ready.wait, 300):
            raise RuntimeError("dedupe did not start")
        registry_settings = {**common, "mongodb_database": f"{run}_registry", "scheduler_enabled": False}
        replica_counts = spawn.Queue()
        replicas = []
        for _ in range(args.registry_replicas - 1):
            replica_ready = spawn.Event()
            served = ("registry", registry_settings, replica_ready, stop, replica_counts)
            replica = spawn.Process(target=_serve, args=served)
            replica.start()
            if not await asyncio.to_thread(replica_ready.wait, 300):
                raise RuntimeError("a registry replica did not start")
            replicas.append(replica)
        registry = create_registry(RegistrySettings(**registry_settings))
        pids = {"registry": os.getpid(), "dedupe": dedupe.pid or 0, **SERVER_PIDS}
        pids |= {f"registry_{n}": r.pid or 0 for n, r in enumerate(replicas, start=2)}
        with store_commands.counting(f"{run}_registry") as registry_log:
            async with contextlib.AsyncExitStack() as stack:
                await stack.enter_async_context(registry.router.lifespan_context(registry))
                client = await stack.enter_async_context(
                    httpx.AsyncClient(
                        transport=httpx.ASGITransport(app=registry), base_url="http://registry", timeout=600
                    )
                )
                cpu_before = proc_cpu.snapshot(pids)
                registry_cpu = time.process_time()  # this process alone (the dedupe process is its child)
                started = time.monotonic()  # the watcher's clock too (CLOCK_MONOTONIC is the machine's)
                watched = spawn.Queue()
                watcher = spawn.Process(
                    target=_watch, args=(bootstrap, prefix, args.students, args.timeout, args.progress, watched)
                )
                watcher.start()

                async def upload(school: str) -> None:
                    token = mint_token(private, OperatorClaims(sub="bench", role=Role.SCHOOL, code=school))
                    answer = await client.post(
                        "/v1/students/bulk",
                        files={"file": ("class.csv", as_csv(classes[school]), "text/csv")},
                        data={"school_code": school, "school_year": "2026"},
                        headers={"Authorization": f"Bearer {token}"},
                    )
                    if answer.status_code != 200 or answer.json()["errors"]:
                        raise RuntimeError(f"upload for {school} failed: {answer.text[:500]}")

                await asyncio.gather(*(upload(s) for s in schools))
                requested = time.monotonic()
                seen = await asyncio.to_thread(watched.get, True, args.timeout + 120)
                finished, kinds, done, timed_out, watcher_cpu = seen
                watcher.join(60)
                cpu = proc_cpu.since(cpu_before, pids)
                cpu["registry"] = time.process_time() - registry_cpu
                cpu["registry"] += sum(cpu.pop(f"registry_{n}") for n in range(2, len(replicas) + 2))
                load = os.getloadavg()[0]
        stop.set()
        dedupe_commands, dedupe_seconds, dedupe_returned = await asyncio.to_thread(dedupe_counts.get, True, 120)
        dedupe_log = store_commands.CommandLog(
            f"{run}_dedupe", dedupe_commands, defaultdict(float, dedupe_seconds), dedupe_returned
        )
        dedupe.join(60)
        for _ in replicas:
            commands, seconds, returned = await asyncio.to_thread(replica_counts.get, True, 120)
            registry_log.commands += commands
            registry_log.returned.update(returned)
            for kind, spent in seconds.items():
                registry_log.seconds[kind] += spent
        for replica in replicas:
            replica.join(60)
    total = finished - started
    result = {
        "benchmark": "registry_bulk_import",
        "students": args.students,
        "schools": len(classes),
        "end_to_end_s": round(total, 2),
        "upload_and_request_s": round(requested - started, 2),
        "students_per_s": round(done / total, 1),
        "registry_replicas": args.registry_replicas,
        **({"timed_out_after_s": args.timeout, "students_done": done} if timed_out else {}),
        "verdicts": dict(kinds),
        "insert_many_s": round(insert_s, 3),
        "insert_many_rows_per_s": round(args.students / insert_s, 1),
        "ratio_vs_insert_many": round(insert_s / total, 4),
        "cpu_ms_per_student": {k: round(1000 * v / args.students, 2) for k, v in cpu.items()},  # replicas summed
        # The benchmark's own consumer (`_watch`), in a process of its own since 2026-12-05 evening; before, it ran in
        # the registry's process and was in the registry's figure (about 0.04 ms per student).
        "benchmark_consumer_cpu_ms_per_student": round(1000 * watcher_cpu / args.students, 2),
        # Cores the run kept busy on average (services and the benchmark's consumer): this machine's speed drifts by a
        # quarter within an hour, the rate and the CPU per student with it, while this share of the machine does not;
        # a change to the pipelining shows here when one rate against another is noise.
        "cores_busy": round((sum(cpu.values()) + watcher_cpu) / total, 2),
        "load_average_1min": round(load, 2),
        "store_per_student": {
            "registry": per_student(registry_log, args.students),
            "dedupe": per_student(dedupe_log, args.students),
        },
        "target": ">= 1,000 students/s end to end at 100,000 (issue 19)",
        "path": "HTTP upload -> validation -> pending requests + outbox (bulk) -> Kafka -> dedupe, 500 checks a batch "
        "(index, reservations, verdicts) -> Kafka -> registry, 500 verdicts a batch (L/J numbers, R07 numbers, "
        "records, register, R02 deadlines, identity feed) -> student.status.v1",
        "measured_at": datetime.now(UTC).isoformat(),
    }
    return save_result(args.result, result, ensure_ascii=False)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))

"""Complete transfer cases through the transfer service's API: apply, examine, the four approval stages
(receiving school, receiving bureau, sending school, sending bureau) with their SLA timers armed and disarmed and
their stage and case events published, notification to report, reporting. Cases per second, and each stage
decision's latency (p50, p99), on the local broker and store."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx

from bench import proc_cpu
from bench.result_file import save_result
from bench.servers import ROOT, SERVER_PIDS, bench_servers
from xueji_contracts.auth import OperatorClaims
from xueji_contracts.envelope import envelop
from xueji_contracts.topics import all_topic_names
from xueji_kit import store_commands
from xueji_kit.security import mint_token
from xueji_transfer.app import create_app
from xueji_transfer.domain.record import StudentRecord, school_year_of
from xueji_transfer.settings import TransferSettings

RECEIVING, SENDING = "3506020001", "3501020003"
# Fujian's checklist (R30, 002 III.5) for a household register that did not move, and the certificate image.
MATERIALS = ("registration_form", "status_basic_info", "household_register", "reason_proof", "certificate_image")
STAGES = ("receiving_school", "receiving_bureau", "sending_school", "sending_bureau")


def _evidence(kind: str) -> dict[str, str]:
    return {"kind": kind, "uri": f"s3://materials/{kind}", "sha256": hashlib.sha256(kind.encode()).hexdigest()}


def _term(today: date) -> dict[str, Any]:
    """The semester running today (autumn: Sept - Jan, spring: Feb - July)."""
    if today.month >= 8 or today.month == 1:
        year = today.year if today.month >= 8 else today.year - 1
        return {"start": f"{year}-09-01", "end": f"{year + 1}-01-20", "semester": 1}
    return {"start": f"{today.year}-02-17", "end": f"{today.year}-07-04", "semester": 2}


def _application(n: int) -> dict[str, Any]:
    return {
        "application": {
            "student_id": f"stu_bench_{n}", "status": "enrolled", "sending": {"code": SENDING},
            "receiving": {"code": RECEIVING}, "grade": 4, "target_grade": 4, "term": _term(date.today()),
            "reason": "household_move",
            "materials": [_evidence(kind) for kind in MATERIALS],
        }
    }  # fmt: skip


def _registry_record(n: int) -> Any:
    today = date.today()
    record = StudentRecord(
        student_id=f"stu_bench_{n}", school_code=SENDING, county_code=SENDING[:6], state="enrolled", grade=4,
        school_year=school_year_of(today),
    )  # fmt: skip
    return envelop(record, producer="registry", province=SENDING[:2], occurred_at=datetime.now(UTC))


def _percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"p50": round(statistics.median(ordered), 3), "p99": round(ordered[max(0, int(len(ordered) * 0.99) - 1)], 3)}


def _per(commands: list[store_commands.Command], calls: int) -> dict[str, Any]:
    return {
        "commands": round(len(commands) / calls, 2),
        "by_kind_and_collection": {k: round(v / calls, 2) for k, v in store_commands.tally(commands).items()},
        "scans": sorted(set(store_commands.scans(commands))),
    }


async def run_round(bootstrap: str, mongo: str, keys: tuple[str, str], cases: int, concurrency: int) -> dict[str, Any]:
    """One measured run on running servers, in a database and topics of its own."""
    import kafka_server

    private, public = keys
    latencies: dict[str, list[float]] = {stage: [] for stage in STAGES}
    calls: dict[str, int] = {}
    run = f"bench{uuid.uuid4().hex[:6]}"
    kafka_server.create_topics(bootstrap, [f"{run}.{t}" for t in all_topic_names()])
    settings = TransferSettings(
        kafka_bootstrap_servers=bootstrap, mongodb_uri=mongo, topic_prefix=f"{run}.", jwt_public_key=public,
        mongodb_database=f"{run}_transfer", log_level="WARNING", scheduler_enabled=True,
    )  # fmt: skip
    # The SLA scheduler runs, as in production and as Flowable's async executor does beside it: its ticks (and the
    # timers-due sampler reading from its last finished minute) are part of what a case costs.
    store_commands.install()  # before the service's client is made
    app = create_app(settings)
    tokens = {
        who: mint_token(
            private, OperatorClaims.model_validate({"sub": f"bench-{who[0]}", "role": who[0], "code": who[1]})
        )
        for who in (("school", RECEIVING), ("county", RECEIVING[:6]), ("school", SENDING), ("county", SENDING[:6]))
    }
    party = {
        "receiving_school": ("school", RECEIVING), "receiving_bureau": ("county", RECEIVING[:6]),
        "sending_school": ("school", SENDING), "sending_bureau": ("county", SENDING[:6]),
    }  # fmt: skip
    pids = {"service": os.getpid(), **SERVER_PIDS}
    with store_commands.counting(settings.database_name) as log:
        async with contextlib.AsyncExitStack() as stack:
            await stack.enter_async_context(app.router.lifespan_context(app))
            client = await stack.enter_async_context(
                httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://transfer", timeout=120)
            )

            # R28: transfer takes a student's facts from the registry's record; these are what the registry's
            # student.status.v1 messages would have left in its projection (not timed).
            for n in range(cases):
                await app.state.records.follow(_registry_record(n))

            async def call(kind: str, path: str, who: tuple[str, str], body: Any) -> dict[str, Any]:
                calls[kind] = calls.get(kind, 0) + 1
                with store_commands.scope(kind):
                    answer = await client.post(path, json=body, headers={"Authorization": f"Bearer {tokens[who]}"})
                if answer.status_code not in (200, 201, 202):
                    raise RuntimeError(f"{path}: {answer.status_code} {answer.text[:300]}")
                return dict(answer.json())

            async def one_case(n: int) -> None:
                case = await call("apply", "/v1/transfers", ("school", RECEIVING), _application(n))
                tid = case["transfer_id"]
                await call("examine", f"/v1/transfers/{tid}/examination", ("school", RECEIVING),
                           {"conditions_met": True, "vacancy": True})  # fmt: skip
                for stage in STAGES:
                    started = time.perf_counter()
                    path = f"/v1/transfers/{tid}/stages/{stage}/decision"
                    await call("decide_stage", path, party[stage], {"decision": "approve"})
                    latencies[stage].append(time.perf_counter() - started)
                await call("notify", f"/v1/transfers/{tid}/notify-to-report", ("school", RECEIVING), {})
                await call("report", f"/v1/transfers/{tid}/report", ("school", RECEIVING),
                           {"electronic_file": _evidence("electronic_file")})  # fmt: skip

            gate = asyncio.Semaphore(concurrency)

            async def gated(n: int) -> None:
                async with gate:
                    await one_case(n)

            await asyncio.sleep(0.5)  # the relay's first lease check: from then on it is told of commits in memory
            log.clear()
            cpu_before = proc_cpu.snapshot(pids)
            started = time.perf_counter()
            await asyncio.gather(*(gated(n) for n in range(cases)))
            elapsed = time.perf_counter() - started
            # What the cases left to publish is part of their cost: CPU is read once the outbox is empty.
            events = app.state.runtime.events
            with store_commands.scope("bench"):
                for _ in range(6000):
                    if not await events.outbox.count_documents({}, limit=1):
                        break
                    await asyncio.sleep(0.05)
            drained = time.perf_counter() - started
            cpu = proc_cpu.since(cpu_before, pids)
            commands = list(log.commands)
    every = [x for values in latencies.values() for x in values]
    by_scope: dict[str, list[store_commands.Command]] = {}
    for command in commands:
        by_scope.setdefault(command.scope, []).append(command)
    background = {name: _per(cmds, cases) for name, cmds in by_scope.items() if name not in calls and name != "bench"}
    return {
        "benchmark": "transfer_throughput",
        "cases": cases,
        "concurrency": concurrency,
        "elapsed_s": round(elapsed, 2),
        "cases_per_s": round(cases / elapsed, 2),
        "published_all_after_s": round(drained, 2),
        "stage_decision_latency_s": {stage: _percentiles(v) for stage, v in latencies.items()},
        "all_stages_p50_s": _percentiles(every)["p50"],
        "all_stages_p99_s": _percentiles(every)["p99"],
        "cpu_s": cpu,
        "cpu_s_per_case": round(sum(cpu.values()) / cases, 4),
        "cpu_s_per_case_by_process": {name: round(v / cases, 4) for name, v in cpu.items()},
        "store_commands_per_call": {kind: _per(by_scope.get(kind, []), n) for kind, n in calls.items()},
        "store_commands_per_case_in_background": background,
        "store_cpu_ms_per_call": round(1000 * cpu.get("store", 0.0) / sum(calls.values()), 2),
        "per_case": "apply, examine, 4 stage decisions (timers armed/disarmed, stage and case events), notify, report",
        "processes": "service: this Python process (the transfer service and the HTTP client driving it in-process); "
        "store: FerretDB; kafka: the broker",
        "measured_at": datetime.now(UTC).isoformat(),
    }


async def main(argv: list[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="make bench (transfer throughput)")
    parser.add_argument("--cases", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=10)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT / "deploy" / "local" / "localstack"))
    from keys import ensure_keys

    with bench_servers() as (bootstrap, mongo), tempfile.TemporaryDirectory() as keydir:
        keys = tuple(p.read_text() for p in ensure_keys(Path(keydir)))
        result = await run_round(bootstrap, mongo, (keys[0], keys[1]), args.cases, args.concurrency)
    return save_result("transfer_throughput", result)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))

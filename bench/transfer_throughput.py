"""Complete transfer cases through the transfer service's API: apply, examine, the four approval stages
(receiving school, receiving bureau, sending school, sending bureau) with their SLA timers armed and disarmed and
their stage and case events published, notification to report, reporting. Cases per second, and each stage
decision's latency (p50, p99), on the local broker and store."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx

from bench.servers import ROOT, bench_servers
from xueji_contracts.auth import OperatorClaims
from xueji_contracts.envelope import envelop
from xueji_contracts.topics import all_topic_names
from xueji_kit.security import mint_token
from xueji_transfer.app import create_app
from xueji_transfer.domain.record import StudentRecord, school_year_of
from xueji_transfer.settings import TransferSettings

RESULTS = Path(__file__).resolve().parent / "results"
RECEIVING, SENDING = "3506020001", "3501020003"
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
            "materials": [_evidence("status_basic_info"), _evidence("reason_proof"), _evidence("certificate_image")],
        }
    }  # fmt: skip


def _registry_record(n: int) -> Any:
    today = date.today()
    record = StudentRecord(
        student_id=f"stu_bench_{n}", school_code=SENDING, county_code=SENDING[:6], state="enrolled", grade=4,
        school_year=school_year_of(today),
    )  # fmt: skip
    return envelop(record, producer="registry", province=SENDING[:2], occurred_at=datetime.now(UTC))


async def main(argv: list[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="make bench (transfer throughput)")
    parser.add_argument("--cases", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=10)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT / "deploy" / "local" / "localstack"))
    import kafka_server
    from keys import ensure_keys

    latencies: dict[str, list[float]] = {stage: [] for stage in STAGES}
    with bench_servers() as (bootstrap, mongo), tempfile.TemporaryDirectory() as keydir:
        private, public = (p.read_text() for p in ensure_keys(Path(keydir)))
        run = f"bench{uuid.uuid4().hex[:6]}"
        kafka_server.create_topics(bootstrap, [f"{run}.{t}" for t in all_topic_names()])
        settings = TransferSettings(
            kafka_bootstrap_servers=bootstrap, mongodb_uri=mongo, topic_prefix=f"{run}.", jwt_public_key=public,
            mongodb_database=f"{run}_transfer", log_level="WARNING", scheduler_enabled=False,
        )  # fmt: skip
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
        async with contextlib.AsyncExitStack() as stack:
            await stack.enter_async_context(app.router.lifespan_context(app))
            client = await stack.enter_async_context(
                httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://transfer", timeout=120)
            )

            # R28: transfer takes a student's facts from the registry's record; these are what the registry's
            # student.status.v1 messages would have left in its projection (not timed).
            for n in range(args.cases):
                await app.state.records.follow(_registry_record(n))

            async def call(path: str, who: tuple[str, str], body: Any) -> dict[str, Any]:
                answer = await client.post(path, json=body, headers={"Authorization": f"Bearer {tokens[who]}"})
                if answer.status_code not in (200, 201, 202):
                    raise RuntimeError(f"{path}: {answer.status_code} {answer.text[:300]}")
                return dict(answer.json())

            async def one_case(n: int) -> None:
                case = await call("/v1/transfers", ("school", RECEIVING), _application(n))
                tid = case["transfer_id"]
                await call(f"/v1/transfers/{tid}/examination", ("school", RECEIVING),
                           {"conditions_met": True, "vacancy": True})  # fmt: skip
                for stage in STAGES:
                    started = time.perf_counter()
                    await call(f"/v1/transfers/{tid}/stages/{stage}/decision", party[stage], {"decision": "approve"})
                    latencies[stage].append(time.perf_counter() - started)
                await call(f"/v1/transfers/{tid}/notify-to-report", ("school", RECEIVING), {})
                await call(f"/v1/transfers/{tid}/report", ("school", RECEIVING),
                           {"electronic_file": _evidence("electronic_file")})  # fmt: skip

            gate = asyncio.Semaphore(args.concurrency)

            async def gated(n: int) -> None:
                async with gate:
                    await one_case(n)

            started = time.perf_counter()
            await asyncio.gather(*(gated(n) for n in range(args.cases)))
            elapsed = time.perf_counter() - started
    every = sorted(x for values in latencies.values() for x in values)
    result = {
        "benchmark": "transfer_throughput",
        "cases": args.cases,
        "concurrency": args.concurrency,
        "elapsed_s": round(elapsed, 2),
        "cases_per_s": round(args.cases / elapsed, 2),
        "stage_decision_latency_s": {
            stage: {"p50": round(statistics.median(v), 3), "p99": round(sorted(v)[max(0, int(len(v) * 0.99) - 1)], 3)}
            for stage, v in latencies.items()
        },
        "all_stages_p50_s": round(statistics.median(every), 3),
        "all_stages_p99_s": round(every[max(0, int(len(every) * 0.99) - 1)], 3),
        "per_case": "apply, examine, 4 stage decisions (timers armed/disarmed, stage and case events), notify, report",
        "measured_at": datetime.now(UTC).isoformat(),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "transfer_throughput.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))

"""The transfer workload beside its peers (issue 19): ours and Flowable, interleaved round by round on the same
servers and machine, medians of the rounds and the ratio ours / Flowable.

Flowable is bench/peers/flowable (Maven, Java 17): the same approval chain as a BPMN process on an embedded Flowable
engine over an H2 file database under .local/, driven by as many client threads as our concurrency. Each round runs
ours (bench/transfer_throughput.run_round, on Kafka and the store) and then Flowable on a fresh database. A busy machine
moves both; the ratio, measured side by side, moves less than either."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import transfer_throughput
from bench.result_file import RESULTS
from bench.servers import ROOT, bench_servers

PEER = ROOT / "bench" / "peers" / "flowable"
WORK = ROOT / ".local" / "flowable-peer"


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise SystemExit(f"the Flowable peer needs {name}: Maven and Java 17 (apt-get install maven openjdk-17-jdk)")
    return path


def build_flowable() -> None:
    """`mvn package` unless the build is newer than every source file (Maven resolves from Maven Central)."""
    built = PEER / "target" / "classes" / "xueji" / "bench" / "FlowablePeer.class"
    sources = [s for s in [PEER / "pom.xml", *(PEER / "src").rglob("*")] if s.is_file()]
    fresh = built.exists() and (PEER / "target" / "lib").is_dir()
    if fresh and all(s.stat().st_mtime <= built.stat().st_mtime for s in sources):
        return
    subprocess.run([_tool("mvn"), "-q", "-B", "package", "-DskipTests"], cwd=PEER, check=True)  # noqa: S603


def run_flowable(cases: int, concurrency: int, round_no: int) -> dict[str, Any]:
    database = WORK / f"round{round_no}"
    shutil.rmtree(database, ignore_errors=True)
    classpath = f"{PEER / 'target' / 'classes'}:{PEER / 'target' / 'lib'}/*"
    command = [_tool("java"), "-cp", classpath, "xueji.bench.FlowablePeer", "--cases", str(cases),
               "--concurrency", str(concurrency), "--warmup", "20", "--db", str(database / "flowable")]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=1800)  # noqa: S603
    shutil.rmtree(database, ignore_errors=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _median(rounds: list[dict[str, Any]], key: str) -> float:
    return round(statistics.median(float(r[key]) for r in rounds), 4)


ROW = ("cases_per_s", "all_stages_p50_s", "all_stages_p99_s", "cpu_s_per_case")


def _row(result: dict[str, Any]) -> dict[str, Any]:
    return {key: result[key] for key in ROW}


def _summary(rounds: list[dict[str, Any]]) -> dict[str, float]:
    return {key: _median(rounds, key) for key in ROW}


async def main(argv: list[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="make bench (transfer beside Flowable)")
    parser.add_argument("--cases", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    build_flowable()
    sys.path.insert(0, str(ROOT / "deploy" / "local" / "localstack"))
    from keys import ensure_keys

    ours: list[dict[str, Any]] = []
    load: list[float] = []  # the 1-minute load average as each round starts: other work on the machine
    flowable: list[dict[str, Any]] = []
    with bench_servers() as (bootstrap, mongo), tempfile.TemporaryDirectory() as keydir:
        private, public = (p.read_text() for p in ensure_keys(Path(keydir)))
        for n in range(args.rounds):
            load.append(round(os.getloadavg()[0], 1))
            ours.append(await transfer_throughput.run_round(bootstrap, mongo, (private, public), args.cases,
                                                            args.concurrency))  # fmt: skip
            flowable.append(await asyncio.to_thread(run_flowable, args.cases, args.concurrency, n))
            print(f"round {n + 1}: ours {ours[-1]['cases_per_s']} cases/s, Flowable {flowable[-1]['cases_per_s']}",
                  file=sys.stderr)  # fmt: skip
    mine, theirs = _summary(ours), _summary(flowable)
    busy = max(load) > (os.cpu_count() or 1)
    ratios = [o["cases_per_s"] / f["cases_per_s"] for o, f in zip(ours, flowable, strict=True)]
    result = {
        "benchmark": "transfer_peers",
        "cases": args.cases,
        "concurrency": args.concurrency,
        "rounds": args.rounds,
        "ours": mine,
        "flowable": theirs,
        "ratio_ours_to_flowable_cases_per_s": round(statistics.median(ratios), 3),
        "ratio_ours_to_flowable_cpu_s_per_case": round(mine["cpu_s_per_case"] / theirs["cpu_s_per_case"], 2),
        "ours_cpu_s_per_case_by_process": {
            name: _median([r["cpu_s_per_case_by_process"] for r in ours], name)
            for name in ours[0]["cpu_s_per_case_by_process"]
        },
        "ours_store_commands_per_call": ours[0]["store_commands_per_call"],
        "ours_rounds": [_row(r) for r in ours],
        "flowable_rounds": [_row(r) for r in flowable],
        "flowable_engine": flowable[0]["engine"],
        "flowable_per_case": "start (apply), a variable (examine), 4 user tasks each with a non-interrupting warning "
        "and an interrupting breach timer, the no-op notify delegate; 20 warm-up cases before each measured run",
        "machine": {"cores": os.cpu_count(), "load_average_at_each_round": load, "busy": busy},
        "measured_at": datetime.now(UTC).isoformat(),
    }
    RESULTS.mkdir(exist_ok=True)
    middle = sorted(ours, key=lambda r: float(r["cases_per_s"]))[len(ours) // 2]
    (RESULTS / "transfer_throughput.json").write_text(json.dumps(middle, indent=2) + "\n")
    (RESULTS / "transfer_peers.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"{'engine':<40}{'cases/s':>9}{'stage p50':>11}{'stage p99':>11}{'CPU s/case':>12}")
    for name, row in (("this system (Kafka + FerretDB)", mine), (theirs and result["flowable_engine"], theirs)):
        print(f"{name:<40}{row['cases_per_s']:>9}{row['all_stages_p50_s']:>11}{row['all_stages_p99_s']:>11}"
              f"{row['cpu_s_per_case']:>12}")  # fmt: skip
    print(f"ours / Flowable: {result['ratio_ours_to_flowable_cases_per_s']} of its rate")
    if busy:
        print(f"the machine was busy (load average {load} on {os.cpu_count()} cores): compare the ratio, not the rates")
    return result


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))

"""The duplicate check (R14) on the blind labelled set, through the dedupe service's public surface only.

The running service is fed as the registry feeds it (IdentityRecorded on `registry.identity.v1`) with every record
that is not a probe, then each probe (the later record of every labelled pair, and a sample of ordinary records) is
checked with `POST /v1/checks` as a province operator. A pair (a, b) counts as flagged when checking b answers
`duplicate` or `possible_duplicate` with a among its matches, and refused when the answer is `duplicate` with a among
them. Writes bench/results/dedupe_blind_<records>.json.

    uv run python -m bench.blind.evaluate [--records 30000] [--seed 20261205] [--controls 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench.blind.dataset import LabelledSet, generate
from bench.servers import ROOT, bench_servers

PROVINCE = "43"  # Hunan: the province of the set, with a packaged policy file
OPERATOR = {"sub": "blind-bench", "role": "province", "code": "430000"}
CONCURRENCY = 4


def _keys(directory: Path) -> tuple[str, Path]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from xueji_contracts.auth import OperatorClaims
    from xueji_kit.security import mint_token

    key = Ed25519PrivateKey.generate()
    public = directory / "public.pem"
    public.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return mint_token(private, OperatorClaims.model_validate(OPERATOR)), public


def _identity(record: dict[str, Any]) -> dict[str, Any]:
    """A record as the contract's PersonIdentity: the record id is the student id."""
    identity = {
        "student_id": record["record_id"],
        "name": record["name"],
        "birth_date": record["birth_date"],
        "gender": record["gender"],
        "school_code": record["school_code"],
        "guardians": record["guardians"],
    }
    if record["id_number"]:
        identity["id_number"] = record["id_number"]
    if record["household_register"]:
        identity["household_register"] = record["household_register"]
    return identity


async def _feed(bootstrap: str, records: list[dict[str, Any]]) -> None:
    """Publish the records as the registry does: IdentityRecorded on registry.identity.v1, keyed by student id."""
    from aiokafka import AIOKafkaProducer

    from xueji_contracts.envelope import envelop
    from xueji_contracts.messages.dedupe import IdentityRecorded

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=20)
    await producer.start()
    try:
        now = datetime.now(UTC)
        for record in records:
            payload = IdentityRecorded.model_validate({**_identity(record), "record_version": 1})
            message = envelop(payload, producer="registry", province=PROVINCE, occurred_at=now)
            await producer.send(
                "registry.identity.v1", message.model_dump_json().encode(), key=record["record_id"].encode()
            )
        await producer.flush()
    finally:
        await producer.stop()


def _index_size(answer: Any) -> int:
    if isinstance(answer, list):
        return len(answer)
    for key in ("records", "total", "count", "size"):
        if isinstance(answer.get(key), int):
            return int(answer[key])
    for key in ("items", "students", "candidates"):
        if isinstance(answer.get(key), list):
            return len(answer[key])
    raise ValueError(f"GET /v1/index answered an unknown shape: {sorted(answer)}")


async def _wait_indexed(client: httpx.AsyncClient, expected: int, limit_seconds: float = 900) -> float:
    started = time.monotonic()
    while time.monotonic() - started < limit_seconds:
        answer = await client.get("/v1/index")
        answer.raise_for_status()
        if _index_size(answer.json()) >= expected:
            return time.monotonic() - started
        await asyncio.sleep(2)
    raise RuntimeError(f"the index did not reach {expected} records in {limit_seconds:.0f} s")


async def _check_all(client: httpx.AsyncClient, probes: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    verdicts: dict[str, dict[str, Any]] = {}
    gate = asyncio.Semaphore(CONCURRENCY)

    async def check(record: dict[str, Any]) -> None:
        async with gate:
            answer = await client.post("/v1/checks", json={**_identity(record), "purpose": "creation"})
        if answer.status_code != 200:
            raise RuntimeError(f"POST /v1/checks {answer.status_code} for {record['record_id']}: {answer.text}")
        verdicts[record["record_id"]] = answer.json()

    await asyncio.gather(*(check(r) for r in probes))
    return verdicts


def _matched(verdict: dict[str, Any], other: str) -> bool:
    return any(m.get("student_id") == other for m in verdict.get("matches", ()))


def score(data: LabelledSet, verdicts: dict[str, dict[str, Any]], controls: list[str]) -> dict[str, Any]:
    """Per kind recall (duplicates) and share flagged / refused (hard non-duplicates); overall precision/recall."""
    by_kind: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    labelled = {(lab["a"], lab["b"]): lab for lab in data.labels}
    for lab in data.labels:
        verdict = verdicts[lab["b"]]
        flagged = verdict["verdict"] != "unique" and _matched(verdict, lab["a"])
        refused = verdict["verdict"] == "duplicate" and _matched(verdict, lab["a"])
        tally = by_kind[(lab["label"], lab["kind"])]
        tally["pairs"] += 1
        tally["flagged"] += flagged
        tally["refused"] += refused
        tally["best_match"] += verdict.get("existing_student_id") == lab["a"]
        if lab["label"] == "duplicate" and lab["detail"]:  # two_errors: which two; second_id_birth_date: sequence
            by_kind[("duplicate", f"{lab['kind']}:{lab['detail']}")]["pairs"] += 1
            by_kind[("duplicate", f"{lab['kind']}:{lab['detail']}")]["flagged"] += flagged
    # every (probe, match) pair the answers flag or refuse: true when it is a labelled duplicate, else false
    flagged_pairs = refused_pairs = true_flagged = true_refused = 0
    unlabelled = Counter[str]()
    for probe, verdict in verdicts.items():
        if verdict["verdict"] == "unique":
            continue
        for match in verdict.get("matches", ()):
            pair = (match["student_id"], probe)
            is_duplicate = pair in labelled and labelled[pair]["label"] == "duplicate"
            refused = verdict["verdict"] == "duplicate"
            flagged_pairs += 1
            refused_pairs += refused
            true_flagged += is_duplicate
            true_refused += is_duplicate and refused
            if pair not in labelled:
                unlabelled["control probe" if probe in controls else "labelled probe, other record"] += 1
    # whether `matches` lists only what the verdict is about: a unique answer with matches would say otherwise
    diagnostics = {
        "unique_answers_with_matches": sum(1 for v in verdicts.values() if v["verdict"] == "unique" and v["matches"]),
        "lowest_match_score_in_flagged_answers": min(
            (m["score"] for v in verdicts.values() if v["verdict"] != "unique" for m in v["matches"]), default=None
        ),
        "lowest_flagged_answer_score": min(
            (v["score"] for v in verdicts.values() if v["verdict"] != "unique"), default=None
        ),
    }
    duplicates = sum(1 for lab in data.labels if lab["label"] == "duplicate")
    control_flagged = sum(1 for c in controls if verdicts[c]["verdict"] != "unique")
    control_refused = sum(1 for c in controls if verdicts[c]["verdict"] == "duplicate")

    def ratio(part: int, whole: int) -> float | None:
        return round(part / whole, 4) if whole else None

    kinds: dict[str, dict[str, Any]] = {"duplicate": {}, "distinct": {}}
    for (label, kind), tally in sorted(by_kind.items()):
        row: dict[str, Any] = {"pairs": tally["pairs"], "flagged": tally["flagged"]}
        if label == "duplicate":
            row["recall_flagged"] = ratio(tally["flagged"], tally["pairs"])
            if ":" not in kind:
                row["recall_refused"] = ratio(tally["refused"], tally["pairs"])
        else:
            row |= {
                "refused": tally["refused"],
                "share_flagged": ratio(tally["flagged"], tally["pairs"]),
                "share_refused": ratio(tally["refused"], tally["pairs"]),
            }
        kinds[label][kind] = row
    hard = [lab for lab in data.labels if lab["label"] == "distinct"]
    hard_flagged = sum(
        1 for lab in hard if verdicts[lab["b"]]["verdict"] != "unique" and _matched(verdicts[lab["b"]], lab["a"])
    )
    hard_refused = sum(
        1 for lab in hard if verdicts[lab["b"]]["verdict"] == "duplicate" and _matched(verdicts[lab["b"]], lab["a"])
    )
    return {
        "overall": {
            "flagged": {
                "precision": ratio(true_flagged, flagged_pairs),
                "recall": ratio(true_flagged, duplicates),
                "pairs": flagged_pairs,
            },
            "refused": {
                "precision": ratio(true_refused, refused_pairs),
                "recall": ratio(true_refused, duplicates),
                "pairs": refused_pairs,
            },
            "hard_negatives": {
                "pairs": len(hard),
                "flagged": hard_flagged,
                "refused": hard_refused,
                "share_flagged": ratio(hard_flagged, len(hard)),
                "share_refused": ratio(hard_refused, len(hard)),
            },
            "unlabelled_pairs_flagged": dict(unlabelled),
            "answers": diagnostics,
            "control_probes": {
                "checked": len(controls),
                "flagged": control_flagged,
                "refused": control_refused,
                "share_flagged": ratio(control_flagged, len(controls)),
            },
        },
        "duplicate_kinds": kinds["duplicate"],
        "hard_negative_kinds": kinds["distinct"],
    }


async def _run(data: LabelledSet, controls_wanted: int, seed: int, workdir: Path) -> dict[str, Any]:
    from xueji_contracts.topics import all_topic_names

    probes_ids = {lab["b"] for lab in data.labels}
    in_pairs = probes_ids | {lab["a"] for lab in data.labels}
    free = sorted(r["record_id"] for r in data.records if r["record_id"] not in in_pairs)
    controls = sorted(random.Random(seed).sample(free, min(controls_wanted, len(free))))
    checked = probes_ids | set(controls)
    indexed = [r for r in data.records if r["record_id"] not in checked]
    probes = [r for r in data.records if r["record_id"] in checked]
    token, public = _keys(workdir)
    timings: dict[str, float] = {}
    with bench_servers() as (bootstrap, mongo):
        from kafka_server import create_topics  # the local stack's modules are on sys.path once it started

        create_topics(bootstrap, all_topic_names())
        env = {
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "MONGODB_URI": mongo,
            "XUEJI_PROVINCE": PROVINCE,
            "XUEJI_JWT_PUBLIC_KEY_FILE": str(public),
            "XUEJI_MONGODB_DATABASE": "xueji_dedupe_blind",
            "XUEJI_NATIONAL_ENABLED": "false",
            "XUEJI_SCHEDULER_ENABLED": "false",
            "XUEJI_LOG_LEVEL": "WARNING",
        }
        from common import free_port
        from stack import start_service, wait_ready

        dedupe = start_service("dedupe", free_port(), env, workdir)  # the service's documented entry point
        try:
            wait_ready([dedupe], timeout=180)
            started = time.monotonic()
            await _feed(bootstrap, indexed)
            timings["feed_seconds"] = round(time.monotonic() - started, 1)
            headers = {"Authorization": f"Bearer {token}"}
            async with httpx.AsyncClient(base_url=dedupe.address, headers=headers, timeout=60) as client:
                timings["index_wait_seconds"] = round(await _wait_indexed(client, len(indexed)), 1)
                started = time.monotonic()
                verdicts = await _check_all(client, probes)
                timings["check_seconds"] = round(time.monotonic() - started, 1)
        finally:
            dedupe.stop()
    result = score(data, verdicts, controls)
    result["run"] = {"indexed": len(indexed), "checked": len(probes), **timings}
    return result


def _git_head() -> str:
    answer = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)  # noqa: S607
    return answer.stdout.strip()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=30_000)
    parser.add_argument("--seed", type=int, default=20261205)
    parser.add_argument("--controls", type=int, default=1_000, help="ordinary records checked as new ones")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    data = generate(args.records, args.seed)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="xueji-blind-", dir=ROOT / ".local") as workdir:
        result = asyncio.run(_run(data, args.controls, args.seed, Path(workdir)))
    result = {
        "benchmark": "dedupe_blind",
        "what": "R14 duplicate check on a blind labelled set of Hunan children (bench/blind, issue 16), through "
        "the dedupe service's identity feed and POST /v1/checks; flagged = duplicate or possible_duplicate naming "
        "the labelled partner among the matches, refused = duplicate naming it",
        "commit": _git_head(),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_average_before_after": [round(x, 2) for x in (*load_before, *os.getloadavg())],
        "set": data.meta,
        **result,
    }
    out = args.out or ROOT / "bench" / "results" / f"dedupe_blind_{args.records}.json"
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result["overall"], ensure_ascii=False, indent=2))
    print(f"written {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""The duplicate check measured on two labelled data sets (issue 16, R14): the generator it was tuned on
(`bench.synthetic`) and an independent one (`bench.fujian_children`, sharing no code with it), each beside
Splink on the same records.

Each data set is replayed as creations in order: every record is checked against the records created before it, then
indexed whatever the verdict, so every pair is judged once, when its later record arrives. A pair is "flagged" when
the later record's verdict lists the earlier one (suspected duplicate or refusal), "refused" when the verdict is a
refusal. Reported per duplicate kind (recall, refusals) and per hard-negative kind (flagged share, refusals), with the
flagged precision over all pairs, the refusals of children who are not the same person, and single-check latency at
this size (the 1,000,000-record figures come from `make bench`, dedupe_scale).

    uv run python -m bench.dedupe_independent --records 30000
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bench import fujian_children
from bench.result_file import RESULTS
from bench.synthetic import generate as generate_tuned
from xueji_dedupe.domain import CandidateRecord, CheckRequest, DedupeIndex, MatchPolicy, VerdictKind, check

Pair = frozenset[str]
TARGETS = {
    "flagged_precision": 0.95,
    "flagged_recall": 0.97,
    "one_error_kind_recall": 0.99,
    "two_error_kind_recall": 0.9,
    "non_duplicates_refused": 0,
    "hard_negatives_flagged_share": 0.03,
}


@dataclass
class LabelledSet:
    """What both generators come down to: records in creation order, true pairs by kind, hard negatives by kind."""

    name: str
    records: list[CandidateRecord]
    duplicates: dict[Pair, str]
    hard_negatives: dict[Pair, str]
    notes: dict[str, Any]

    def truth(self) -> frozenset[Pair]:
        return frozenset(self.duplicates)


def independent(records: int, seed: int) -> LabelledSet:
    made = fujian_children.generate(records, seed=seed)
    rows = [CandidateRecord.model_validate({k: v for k, v in r.items() if not k.startswith("_")}) for r in made.records]
    duplicates = {frozenset((a, b)): kind for a, b, kind in made.duplicates}
    negatives = {frozenset((a, b)): kind for a, b, kind in made.hard_negatives}
    return LabelledSet("independent (bench.fujian_children)", rows, duplicates, negatives, made.notes)


def tuned(records: int, seed: int) -> LabelledSet:
    made = generate_tuned(records, seed=seed)
    duplicates = {frozenset((p.original_id, p.duplicate_id)): p.kind.value for p in made.pairs}
    # The tuned generator labels no hard negatives; its twins share surname, county, school and birth date.
    negatives: dict[Pair, str] = {}
    by_family: dict[tuple[Any, ...], list[str]] = {}
    for r in made.records:
        by_family.setdefault((r.school_code, r.birth_date, r.name[:1]), []).append(r.student_id)
    for members in by_family.values():
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                if frozenset((a, b)) not in duplicates:
                    negatives[frozenset((a, b))] = "twins"
    return LabelledSet("tuned (bench.synthetic)", list(made.records), duplicates, negatives, {})


def replay(data: LabelledSet, policy: MatchPolicy) -> dict[str, Any]:
    index = DedupeIndex()
    flagged: set[Pair] = set()
    refused: set[Pair] = set()
    latencies: list[float] = []
    for record in data.records:
        request = CheckRequest.model_validate(record.model_dump(exclude={"student_id"}))
        started = time.perf_counter()
        verdict = check(index, request, policy)
        latencies.append(time.perf_counter() - started)
        for match in verdict.matches:
            pair = frozenset((record.student_id, match.student_id))
            flagged.add(pair)
            if verdict.kind is VerdictKind.DUPLICATE:
                refused.add(pair)
        index.upsert(record)
    return _report(data, flagged, refused, latencies)


def _report(data: LabelledSet, flagged: set[Pair], refused: set[Pair], latencies: list[float]) -> dict[str, Any]:
    truth = data.truth()
    tp = len(flagged & truth)
    by_kind: dict[str, Any] = {}
    for kind in sorted(set(data.duplicates.values())):
        pairs = {p for p, k in data.duplicates.items() if k == kind}
        by_kind[kind] = {
            "pairs": len(pairs),
            "recall": round(len(pairs & flagged) / len(pairs), 4),
            "refused": len(pairs & refused),
        }
    negatives: dict[str, Any] = {}
    for kind in sorted(set(data.hard_negatives.values())):
        pairs = {p for p, k in data.hard_negatives.items() if k == kind}
        negatives[kind] = {
            "pairs": len(pairs),
            "flagged": len(pairs & flagged),
            "flagged_share": round(len(pairs & flagged) / len(pairs), 4),
            "refused": len(pairs & refused),
        }
    hard = set(data.hard_negatives)
    latencies.sort()
    return {
        "records": len(data.records),
        "duplicate_pairs": len(truth),
        "flagged_pairs": len(flagged),
        "flagged_precision": round(tp / len(flagged), 4) if flagged else 1.0,
        "flagged_recall": round(tp / len(truth), 4) if truth else 1.0,
        "refused_pairs": len(refused),
        "non_duplicates_refused": len(refused - truth),
        "hard_negative_pairs": len(hard),
        "hard_negatives_flagged": len(hard & flagged),
        "hard_negatives_flagged_share": round(len(hard & flagged) / len(hard), 4) if hard else 0.0,
        "other_false_positives": len(flagged - truth - hard),
        "by_duplicate_kind": by_kind,
        "by_hard_negative_kind": negatives,
        "check_ms": {
            "p50": round(latencies[len(latencies) // 2] * 1000, 3),
            "p99": round(latencies[int(len(latencies) * 0.99)] * 1000, 3),
            "at_records": len(latencies),
        },
    }


def targets_met(result: dict[str, Any]) -> dict[str, bool]:
    kinds = result["by_duplicate_kind"]
    one = [k for k in kinds if "+" not in k]
    two = [k for k in kinds if "+" in k]
    return {
        "flagged_precision": result["flagged_precision"] >= TARGETS["flagged_precision"],
        "flagged_recall": result["flagged_recall"] >= TARGETS["flagged_recall"],
        "one_error_kind_recall": all(kinds[k]["recall"] >= TARGETS["one_error_kind_recall"] for k in one),
        "two_error_kind_recall": all(kinds[k]["recall"] >= TARGETS["two_error_kind_recall"] for k in two),
        "non_duplicates_refused": result["non_duplicates_refused"] == 0,
        "hard_negatives_flagged_share": result["hard_negatives_flagged_share"]
        <= TARGETS["hard_negatives_flagged_share"],
    }


def splink(data: LabelledSet) -> dict[str, Any] | None:
    """Splink (DuckDB) on the same records, with guardians as an extra comparison; None if it cannot run here."""
    try:
        from bench.dedupe_splink import run_splink
    except ImportError:
        return None
    result = run_splink(_AsDataset(data))
    flagged = result.pop("flagged_pairs", None)
    if flagged is not None:
        hard = set(data.hard_negatives)
        result["hard_negatives_flagged_share"] = round(len(hard & flagged) / len(hard), 4) if hard else 0.0
        kinds: dict[str, float] = {}
        for kind in sorted(set(data.duplicates.values())):
            pairs = {p for p, k in data.duplicates.items() if k == kind}
            kinds[kind] = round(len(pairs & flagged) / len(pairs), 4)
        result["recall_by_kind"] = kinds
    return result


class _AsDataset:
    """The shape bench.dedupe_splink reads: records and the true pairs."""

    def __init__(self, data: LabelledSet) -> None:
        self.records = data.records
        self._truth = data.truth()

    def truth(self) -> frozenset[Pair]:
        return self._truth


def summary(name: str, result: dict[str, Any]) -> Iterable[str]:
    yield (
        f"  {name}: flagged P {result['flagged_precision']:.4f} R {result['flagged_recall']:.4f}, "
        f"refused non-duplicates {result['non_duplicates_refused']}, hard negatives flagged "
        f"{result['hard_negatives_flagged_share']:.2%}, p99 {result['check_ms']['p99']} ms"
    )
    for kind, row in result["by_duplicate_kind"].items():
        yield f"    {kind:24} recall {row['recall']:.4f} ({row['pairs']} pairs, refused {row['refused']})"
    for kind, row in result["by_hard_negative_kind"].items():
        share, counted = row["flagged_share"], f"{row['flagged']}/{row['pairs']}"
        yield f"    {kind:24} flagged {share:.2%} ({counted}, refused {row['refused']})"


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.dedupe_independent")
    parser.add_argument("--records", type=int, default=30_000)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--no-splink", action="store_true")
    args = parser.parse_args(argv)
    policy = MatchPolicy()
    out: dict[str, Any] = {"records": args.records, "seed": args.seed, "targets": TARGETS, "sets": {}}
    for key, make in (("independent", independent), ("tuned", tuned)):
        data = make(args.records, args.seed)
        print(f"{data.name}: {len(data.records)} records", flush=True)
        ours = replay(data, policy)
        for line in summary("ours", ours):
            print(line, flush=True)
        entry: dict[str, Any] = {"generator": data.name, "notes": data.notes, "ours": ours,
                                 "targets_met": targets_met(ours)}  # fmt: skip
        entry["duplicate_kinds"] = dict(Counter(data.duplicates.values()))
        if not args.no_splink:
            entry["splink"] = splink(data)
            if entry["splink"] is not None:
                s = entry["splink"]
                print(f"  splink: P {s['precision']:.4f} R {s['recall']:.4f} at p >= 0.5", flush=True)
        out["sets"][key] = entry
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"dedupe_independent_{args.records}.json"
    path.write_text(json.dumps(out, indent=2, ensure_ascii=False, default=str) + "\n")
    print(f"written {path.name}")


if __name__ == "__main__":
    main(sys.argv[1:])

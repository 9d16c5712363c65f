"""`python -m bench.sichuan [--records N] [--seed S]`: the Sichuan set through the duplicate check, replayed as
creations in order (bench.dedupe_independent.replay), written to bench/results/dedupe_sichuan_<records>.json."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from bench.dedupe_independent import LabelledSet, replay, summary, targets_met
from bench.result_file import RESULTS
from bench.sichuan.generate import generate
from xueji_dedupe.domain import CandidateRecord, MatchPolicy


def labelled(records: int, seed: int) -> LabelledSet:
    made = generate(records, seed=seed)
    rows = [CandidateRecord.model_validate(r) for r in made.records]
    duplicates = {frozenset((a, b)): kind for a, b, kind in made.duplicates}
    negatives = {frozenset((a, b)): kind for a, b, kind in made.hard_negatives if frozenset((a, b)) not in duplicates}
    return LabelledSet("sichuan (bench.sichuan)", rows, duplicates, negatives, made.notes)


def main(argv: list[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m bench.sichuan")
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=51)
    args = parser.parse_args(argv)
    data = labelled(args.records, args.seed)
    ours = replay(data, MatchPolicy())
    for line in summary("ours", ours):
        print(line, flush=True)
    out = {"records": args.records, "seed": args.seed, "generator": data.name, "notes": data.notes,
           "ours": ours, "targets_met": targets_met(ours)}  # fmt: skip
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"dedupe_sichuan_{args.records}.json"
    path.write_text(json.dumps(out, indent=2, ensure_ascii=False, default=str) + "\n")
    print(f"written {path.name}")
    return out


if __name__ == "__main__":
    main(sys.argv[1:])

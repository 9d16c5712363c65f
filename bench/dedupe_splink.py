"""Duplicate detection: our checker against Splink (DuckDB backend) on the same seeded synthetic records.

Both judge the same dataset (`bench.synthetic.generate`: ~5% labelled duplicates of every kind,
twins as hard negatives) and are scored on the same pairs: precision, recall, F1, and records per second.
Ours replays the records as creations through the service's check (index, blocking, scoring), as the
service does one request at a time. Splink is trained unsupervised (u by random sampling, m by EM on two
blocking rules, the match prior from exact ID matches) and predicts every blocked pair; a pair counts as
flagged at its match probability >= 0.5, like our review threshold. Splink gets the preprocessing a
careful user of it would write for Chinese names: whitespace removed, traditional folded to simplified
(OpenCC), toneless pinyin, and a G number's ID part as the ID. Splink's best F1 over thresholds chosen
with the labels (an optimistic oracle for it) is reported too.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from typing import Any

from bench.result_file import RESULTS
from bench.synthetic import SyntheticDataset, evaluate, generate

Pair = frozenset[str]


def scores(found: set[Pair], truth: frozenset[Pair]) -> dict[str, float]:
    tp, fp, fn = len(found & truth), len(found - truth), len(truth - found)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "true_positives": tp, "false_positives": fp}


def run_ours(dataset: SyntheticDataset) -> dict[str, Any]:
    started = time.perf_counter()
    result = evaluate(dataset)
    seconds = time.perf_counter() - started
    tally = result.overall
    found = (dataset.truth() - set(result.missed_pairs)) | set(result.false_positive_pairs)
    return {
        **scores(found, dataset.truth()),
        "seconds": seconds,
        "records_per_second": len(dataset.records) / seconds,
        "refused_outright": tally.refused,
        "recall_by_kind": {kind: round(t.recall, 4) for kind, t in result.by_kind.items() if kind != "unrelated"},
    }


def splink_rows(dataset: SyntheticDataset) -> list[dict[str, Any]]:
    import opencc
    from pypinyin import lazy_pinyin

    to_simplified = opencc.OpenCC("t2s")
    rows = []
    for record in dataset.records:
        name = "".join(str(to_simplified.convert(record.name)).split())
        number = record.status_number or ""
        rows.append(
            {
                "unique_id": record.student_id,
                "name": name,
                "name_py": " ".join(lazy_pinyin(name)),
                "dob": record.birth_date.isoformat(),
                "birth_year": record.birth_date.year,
                "gender": record.gender.value,
                "region": record.region_code,
                "id_number": record.id_number or (number[1:] if number.startswith("G") else None),
                "guardians": ["".join(str(to_simplified.convert(g)).split()) for g in record.guardians] or None,
            }
        )
    return rows


def run_splink(dataset: SyntheticDataset) -> dict[str, Any]:
    import pyarrow as pa
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    logging.getLogger("splink").setLevel(logging.WARNING)
    started = time.perf_counter()
    db = DuckDBAPI()
    region = cl.CustomComparison(
        output_column_name="region",
        comparison_levels=[
            cll.NullLevel("region"),
            cll.ExactMatchLevel("region"),
            cll.CustomLevel("substr(region_l, 1, 4) = substr(region_r, 1, 4)", label_for_charts="same city"),
            cll.ElseLevel(),
        ],
    )
    rows = splink_rows(dataset)
    comparisons = [
        cl.ExactMatch("id_number"),
        cl.LevenshteinAtThresholds("name", [1, 2]).configure(term_frequency_adjustments=True),
        cl.JaroWinklerAtThresholds("name_py", [0.95, 0.88]),
        cl.DateOfBirthComparison("dob", input_is_string=True),
        cl.ExactMatch("gender"),
        region,
    ]
    if any(row["guardians"] for row in rows):  # the same evidence ours gets: a guardian's name in common
        comparisons.append(cl.ArrayIntersectAtSizes("guardians", [1]))
    else:
        for row in rows:
            del row["guardians"]
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=[
            block_on("id_number"),
            block_on("dob", "gender"),
            block_on("name_py", "birth_year"),
        ],
        retain_intermediate_calculation_columns=False,
    )
    table = db.register(pa.Table.from_pylist(rows))
    linker = Linker(table, settings, log_level=logging.WARNING)
    numbers = [row["id_number"] for row in rows if row["id_number"]]
    # The prior from exact ID matches; a set where no two records share an ID number (every duplicate fuzzy) has
    # none, so same name, birth date and gender stand in.
    shared = len(numbers) > len(set(numbers))
    prior_rule = block_on("id_number") if shared else block_on("name", "dob", "gender")
    linker.training.estimate_probability_two_random_records_match([prior_rule], recall=0.5)
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("dob"), record_sample_proportion=1.0)
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("name_py"), record_sample_proportion=1.0
    )
    predictions = linker.inference.predict(threshold_match_probability=0.01).as_record_list()
    seconds = time.perf_counter() - started
    scored = [(p["match_probability"], frozenset((p["unique_id_l"], p["unique_id_r"]))) for p in predictions]
    truth = dataset.truth()
    at_half = scores({pair for probability, pair in scored if probability >= 0.5}, truth)
    best = max(
        ({**scores({pair for p, pair in scored if p >= t}, truth), "threshold": t} for t in _thresholds()),
        key=lambda s: s["f1"],
    )
    flagged = {pair for probability, pair in scored if probability >= 0.5}
    return {
        **at_half,
        "seconds": seconds,
        "records_per_second": len(dataset.records) / seconds,
        "best": best,
        "flagged_pairs": flagged,
    }


def _thresholds() -> list[float]:
    return [0.01, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99, 0.999]


def report(records: int, ours: dict[str, Any], splink: dict[str, Any] | None) -> dict[str, Any]:
    result: dict[str, Any] = {"records": records, "ours": ours, "splink": splink}
    if splink is not None:
        result["ratios_ours_to_splink"] = {
            key: ours[key] / splink[key] if splink[key] else None
            for key in ("precision", "recall", "f1", "records_per_second")
        }
        result["ratios_ours_to_splink"]["f1_vs_splink_best_threshold"] = ours["f1"] / splink["best"]["f1"]
    return result


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench dedupe")
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--no-splink", action="store_true")
    args = parser.parse_args(argv)
    print(f"bench dedupe: generating {args.records} records (seed {args.seed}) ...", flush=True)
    dataset = generate(args.records, seed=args.seed)
    ours = run_ours(dataset)
    print(f"  ours:   P {ours['precision']:.4f} R {ours['recall']:.4f} F1 {ours['f1']:.4f} "
          f"{ours['records_per_second']:.0f} records/s", flush=True)  # fmt: skip
    splink = None if args.no_splink else run_splink(dataset)
    if splink is not None:
        splink.pop("flagged_pairs")
    if splink is not None:
        best = splink["best"]
        print(f"  splink: P {splink['precision']:.4f} R {splink['recall']:.4f} F1 {splink['f1']:.4f} "
              f"{splink['records_per_second']:.0f} records/s")  # fmt: skip
        print(f"  splink at its best threshold (chosen with the labels): F1 {best['f1']:.4f} at {best['threshold']}")
    result = report(args.records, ours, splink)
    if "ratios_ours_to_splink" in result:
        ratios = result["ratios_ours_to_splink"]
        print("  ours/splink: " + ", ".join(f"{k} {v:.3f}" for k, v in ratios.items() if v is not None))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"dedupe_splink_{args.records}.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":  # uv run python -m bench.dedupe_splink --records 100000
    main(sys.argv[1:])

"""The blind labelled set for the R14 duplicate check (bench/blind, issue 16): deterministic, valid, consistent."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import pytest

from xueji_contracts.identity import validate_resident_id

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # `make bench` runs `python -m bench` from the root

from bench.blind import evaluate  # noqa: E402
from bench.blind.dataset import DUPLICATE_KINDS, LabelledSet, generate  # noqa: E402


@pytest.fixture(scope="module")
def small() -> LabelledSet:
    return generate(4_000, seed=7)


def test_r14_blind_set_is_the_same_for_a_seed_and_differs_for_another(small: LabelledSet) -> None:
    again = generate(4_000, seed=7)
    assert again.records == small.records
    assert again.labels == small.labels
    assert generate(4_000, seed=8).records != small.records


def test_r14_blind_set_has_the_size_asked_and_only_valid_resident_id_numbers(small: LabelledSet) -> None:
    assert len(small.records) == 4_000
    assert len({r["record_id"] for r in small.records}) == 4_000
    numbers = [r["id_number"] for r in small.records if r["id_number"]]
    assert all(validate_resident_id(n) == n for n in numbers)  # R06: region, birth date, check character
    assert 0.02 < 1 - len(numbers) / len(small.records) < 0.2  # some children have no ID number


def test_r14_blind_labels_name_existing_records_and_no_probe_is_an_indexed_partner(small: LabelledSet) -> None:
    ids = {r["record_id"] for r in small.records}
    probes = {lab["b"] for lab in small.labels}
    for lab in small.labels:
        assert lab["a"] in ids
        assert lab["b"] in ids
        assert lab["a"] not in probes  # the harness indexes every a and checks every b
    kinds = Counter(lab["kind"] for lab in small.labels if lab["label"] == "duplicate")
    assert set(kinds) == set(DUPLICATE_KINDS)
    assert sum(kinds.values()) == 200  # 5 % of the records
    hard = Counter(lab["kind"] for lab in small.labels if lab["label"] == "distinct")
    assert {"twins", "siblings", "cousins", "namesake_same_birth_date_same_city"} <= set(hard)


def test_r14_blind_same_id_reentered_shares_the_number_and_a_second_id_differs(small: LabelledSet) -> None:
    records = {r["record_id"]: r for r in small.records}
    for lab in small.labels:
        a, b = records[lab["a"]], records[lab["b"]]
        if lab["kind"] == "same_id_reentered":
            assert a["id_number"] == b["id_number"] is not None
        if lab["kind"].startswith("second_id"):
            assert a["id_number"] and b["id_number"] and a["id_number"] != b["id_number"]
        if lab["kind"] == "twins":
            assert a["birth_date"] == b["birth_date"] and a["name"] != b["name"]


def test_r14_blind_score_counts_a_pair_flagged_only_when_its_partner_is_matched() -> None:
    data = LabelledSet(
        records=[],
        labels=[
            {"a": "x1", "b": "y1", "label": "duplicate", "kind": "typo_homophone", "detail": ""},
            {"a": "x2", "b": "y2", "label": "duplicate", "kind": "typo_homophone", "detail": ""},
            {"a": "x3", "b": "y3", "label": "distinct", "kind": "twins", "detail": ""},
        ],
        meta={},
    )
    match = {"score": 0.9, "rule": "fuzzy"}
    verdicts = {
        "y1": {"verdict": "possible_duplicate", "score": 0.9, "matches": [{"student_id": "x1", **match}]},
        "y2": {"verdict": "possible_duplicate", "score": 0.9, "matches": [{"student_id": "other", **match}]},
        "y3": {"verdict": "duplicate", "score": 1.0, "matches": [{"student_id": "x3", **match}]},
        "c1": {"verdict": "unique", "score": 0.0, "matches": []},
    }
    result = evaluate.score(data, verdicts, ["c1"])
    assert result["duplicate_kinds"]["typo_homophone"]["recall_flagged"] == 0.5
    assert result["hard_negative_kinds"]["twins"]["share_refused"] == 1.0
    assert result["overall"]["flagged"]["precision"] == round(1 / 3, 4)
    assert callable(evaluate.main)

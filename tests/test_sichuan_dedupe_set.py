"""The fourth labelled set for the R14 duplicate check (bench/sichuan, issue 16): deterministic, valid, every kind
present, labels consistent with the records they name."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import pytest

from xueji_contracts.identity import validate_resident_id

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # `make bench` runs `python -m bench` from the root

from bench.sichuan.__main__ import labelled  # noqa: E402
from bench.sichuan.generate import ONE_ERROR, TWO_ERRORS, SichuanSet, generate  # noqa: E402


@pytest.fixture(scope="module")
def small() -> SichuanSet:
    return generate(4_000, seed=5)


def test_r14_sichuan_set_is_the_same_for_a_seed_and_differs_for_another(small: SichuanSet) -> None:
    again = generate(4_000, seed=5)
    assert again.records == small.records
    assert again.duplicates == small.duplicates
    assert generate(4_000, seed=6).records != small.records


def test_r14_sichuan_set_has_the_size_asked_valid_numbers_and_children_without_one(small: SichuanSet) -> None:
    assert len(small.records) == 4_000
    assert len({r["student_id"] for r in small.records}) == 4_000
    numbers = [r["id_number"] for r in small.records if r["id_number"]]
    assert all(validate_resident_id(n) == n for n in numbers)  # R06: region, birth date, check character
    assert 0.02 < 1 - len(numbers) / len(small.records) < 0.2
    assert all(r["region_code"].startswith("51") for r in small.records)


def test_r14_sichuan_labels_name_records_in_creation_order_and_cover_every_kind(small: SichuanSet) -> None:
    position = {r["student_id"]: i for i, r in enumerate(small.records)}
    for a, b, _ in small.duplicates + small.hard_negatives:
        assert position[a] < position[b]
    assert set(Counter(k for _, _, k in small.duplicates)) == set(ONE_ERROR + TWO_ERRORS)
    originals = [a if int(a[3:]) < int(b[3:]) else b for a, b, _ in small.duplicates]
    assert len(originals) == len(set(originals))  # one second record per child
    hard = Counter(k for _, _, k in small.hard_negatives)
    assert {"twins", "siblings", "cousins", "namesakes_same_date_city"} <= set(hard)


def test_r14_sichuan_pairs_have_the_shape_of_their_kind(small: SichuanSet) -> None:
    rows = {r["student_id"]: r for r in small.records}
    for a, b, kind in small.duplicates:
        x, y = rows[a], rows[b]
        if kind == "same_id":
            assert x["id_number"] == y["id_number"] is not None
        elif kind.startswith("second_id"):
            assert x["id_number"] and y["id_number"] and x["id_number"] != y["id_number"]
        else:
            assert x["id_number"] is None or y["id_number"] is None  # fuzzy slips: one side without a number
    for a, b, kind in small.hard_negatives:
        x, y = rows[a], rows[b]
        if kind in ("twins", "siblings"):
            assert x["guardians"] == y["guardians"] and x["name"] != y["name"]
        if kind == "namesakes_same_date_city":
            assert x["name"] == y["name"] and x["birth_date"] == y["birth_date"]
            assert x["region_code"][:4] == y["region_code"][:4]
            assert not set(x["guardians"]) & set(y["guardians"])
            assert (x["id_number"] is None) != (y["id_number"] is None)


def test_r14_sichuan_set_loads_as_the_checks_records() -> None:
    data = labelled(1_000, 3)
    assert len(data.records) == 1_000
    assert not set(data.duplicates) & set(data.hard_negatives)

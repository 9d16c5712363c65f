"""The batch audit (R01, R14, R51): every record against every other through blocking; its filters lose no pair."""

from __future__ import annotations

import sys

from xueji_dedupe.domain import CheckRequest, MatchPolicy, batch_audit
from xueji_dedupe.domain.batch_audit import audit, date_filter, name_filter_is_safe
from xueji_dedupe.domain.check import check
from xueji_dedupe.domain.index import DedupeIndex
from xueji_dedupe.domain.policy import FeatureWeights
from xueji_dedupe.synthetic import generate

DATASET = generate(3000, seed=23)


def _pairs_by_checks(records, policy: MatchPolicy | None = None) -> set[frozenset[str]]:
    found: set[frozenset[str]] = set()
    index = DedupeIndex()
    for record in records:
        verdict = check(index, CheckRequest.model_validate(record.model_dump()), policy)
        found |= {frozenset((record.student_id, m)) for m in verdict.matched_student_ids}
        index.upsert(record)
    return found


def test_r14_the_audit_flags_exactly_the_pairs_one_at_a_time_checks_flag() -> None:
    report = audit(DedupeIndex(DATASET.records))
    assert report.name_filter and date_filter(MatchPolicy()) == (True, False)
    assert report.pairs_scored < report.pairs_in_blocks / 10  # the filters do the work ...
    assert {frozenset((p.first, p.second)) for p in report.pairs} == _pairs_by_checks(DATASET.records)  # ... losslessly


def test_r14_the_audit_finds_the_injected_duplicates() -> None:
    found = {frozenset((p.first, p.second)) for p in audit(DedupeIndex(DATASET.records)).pairs}
    truth = {frozenset((p.original_id, p.duplicate_id)) for p in DATASET.pairs}
    assert len(found & truth) >= 0.95 * len(truth)
    assert len(found & truth) >= 0.95 * len(found)


def test_r14_a_policy_under_which_different_dates_or_names_could_reach_review_switches_the_filters_off() -> None:
    lenient = MatchPolicy(weights=FeatureWeights(birth_date_different=5.0, name_different=8.0))
    assert date_filter(lenient) == (False, False) and not name_filter_is_safe(lenient)
    small = DATASET.records[:400]
    report = audit(DedupeIndex(small), lenient)
    assert {frozenset((p.first, p.second)) for p in report.pairs} == _pairs_by_checks(small, lenient)


def test_r14_a_policy_that_makes_a_one_digit_date_typo_hopeless_skips_those_pairs_too() -> None:
    strict = MatchPolicy(weights=FeatureWeights(birth_date_one_digit=-8.0))
    assert date_filter(strict) == (True, True)
    report = audit(DedupeIndex(DATASET.records), strict)
    assert {frozenset((p.first, p.second)) for p in report.pairs} == _pairs_by_checks(DATASET.records, strict)


def test_r14_the_audit_keeps_a_one_digit_birth_date_typo_and_a_swapped_day_and_month() -> None:
    """Same name, gender and county without ID numbers; each date mistake alone still reaches review."""
    from datetime import date

    from xueji_dedupe.domain import CandidateRecord, Gender

    def child(student_id: str, born: date) -> CandidateRecord:
        return CandidateRecord(
            student_id=student_id, name="陈思雨", birth_date=born, gender=Gender.FEMALE, region_code="350203",
            school_code="3502030001", status_number=f"J35020320140703{ord(student_id):04d}",
        )  # fmt: skip

    records = [child("a", date(2014, 7, 3)), child("b", date(2014, 7, 8)), child("c", date(2014, 3, 7))]
    records.append(child("d", date(2014, 11, 21)))  # neither: the same name alone is no duplicate
    pairs = {frozenset((p.first, p.second)) for p in audit(DedupeIndex(records)).pairs}
    assert pairs == _pairs_by_checks(records)
    assert {frozenset("ab"), frozenset("ac")} <= pairs and not any("d" in p for p in pairs)


def test_r14_the_pair_by_pair_filter_of_small_blocks_keeps_exactly_what_the_block_matrices_keep(monkeypatch) -> None:
    # The audit filters small blocks pair by pair (from per-record keys computed once) and large ones as matrices;
    # both must keep the same pairs, so the audit's findings do not depend on where a block's size falls.
    index = DedupeIndex(DATASET.records)
    by_pairs = audit(index)
    monkeypatch.setattr(batch_audit, "SMALL_BLOCK", 1)
    by_matrices = audit(index)
    assert by_pairs.pairs_scored == by_matrices.pairs_scored
    assert by_pairs.pairs == by_matrices.pairs


def test_r14_a_check_that_drops_hopeless_birth_dates_unscored_gives_the_verdicts_full_scoring_gives(
    monkeypatch,
) -> None:
    # A single check skips, before scoring, candidates whose birth date the policy makes unable to reach review
    # (the audit's date filter); every verdict - matches, scores, evidence, candidates compared - must be unchanged.
    index = DedupeIndex(DATASET.records)
    probes = [CheckRequest.model_validate(r.model_dump()) for r in DATASET.records[:600]]
    fast = [check(index, p) for p in probes]
    check_module = sys.modules["xueji_dedupe.domain.check"]  # the package re-exports the function under that name
    monkeypatch.setattr(check_module, "_hopeless_dates", lambda policy: frozenset())
    full = [check(index, p) for p in probes]
    assert sum(v.kind.value != "unique" for v in full) > 20
    assert fast == full

"""The batch audit (R01, R14, R51): every record against every other through blocking; its filters lose no pair."""

from __future__ import annotations

import sys

from bench.synthetic import generate
from xueji_dedupe.domain import CheckRequest, MatchPolicy, batch_audit
from xueji_dedupe.domain.batch_audit import audit, date_filter, name_filter_is_safe
from xueji_dedupe.domain.check import check
from xueji_dedupe.domain.index import DedupeIndex
from xueji_dedupe.domain.policy import FeatureWeights

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
    strict = MatchPolicy(weights=FeatureWeights(birth_date_one_digit=-12.0, birth_date_one_digit_near_name=-12.0))
    assert date_filter(strict) == (True, True)
    # Only one of the two one-digit weights hopeless: a one-digit date beside a near name may still reach review.
    assert date_filter(MatchPolicy(weights=FeatureWeights(birth_date_one_digit=-12.0))) == (True, False)
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


def test_r14_the_hashed_search_for_close_birth_dates_finds_exactly_the_pairs_all_pairs_comparison_finds() -> None:
    # Large blocks find their pairs of close dates by hashing (one digit blanked, date class); every pair within one
    # digit of YYYYMMDD or with day and month swapped must come out once, in row-major order, and no other pair.
    import random
    from datetime import date, timedelta

    from rapidfuzz.distance import Hamming

    rng = random.Random(3)
    start = date(2012, 1, 1)
    born = [start + timedelta(days=rng.randrange(400)) for _ in range(300)]
    born += [date(2012, 3, 7), date(2012, 7, 3), date(2012, 7, 3), date(2013, 7, 3), date(2012, 11, 11)]
    rows = [batch_audit._row(f"s{k}", _profile_born(b)) for k, b in enumerate(born)]
    for one_digit in (True, False):
        first, second = batch_audit._close_dates(rows, one_digit=one_digit)
        found = list(zip(first.tolist(), second.tolist(), strict=True))
        cutoff = 1 if one_digit else 0
        expected = [
            (i, j)
            for i in range(len(rows))
            for j in range(i + 1, len(rows))
            if Hamming.distance(rows[i].digits, rows[j].digits) <= cutoff or rows[i].digits == rows[j].swapped
        ]
        assert found == expected


def _profile_born(born):
    from xueji_dedupe.domain import CandidateRecord, Gender, profile_of

    record = CandidateRecord(
        student_id="x", name="林思雨", birth_date=born, gender=Gender.FEMALE, region_code="350203",
    )  # fmt: skip
    return profile_of(record)


def test_r14_large_blocks_filtered_by_hashing_by_matrices_or_pair_by_pair_give_the_same_audit(monkeypatch) -> None:
    # Which of the three filters a block goes through depends only on its size; the audit's pairs (ids, kind,
    # score, evidence) and the count of pairs scored must not.
    index = DedupeIndex(DATASET.records)
    monkeypatch.setattr(batch_audit, "SMALL_BLOCK", 2)
    monkeypatch.setattr(batch_audit, "HASH_DATES_FROM", 3)
    hashed = audit(index)
    monkeypatch.setattr(batch_audit, "HASH_DATES_FROM", 10**9)
    matrices = audit(index)
    monkeypatch.setattr(batch_audit, "SMALL_BLOCK", 10**9)
    by_pairs = audit(index)
    assert hashed.pairs_scored == matrices.pairs_scored == by_pairs.pairs_scored
    assert hashed.pairs == matrices.pairs == by_pairs.pairs
    assert sum(p.rule == "fuzzy" for p in hashed.pairs) > 20


def test_r14_the_audit_builds_the_evidence_shown_to_a_reviewer_only_for_the_pairs_it_reports(monkeypatch) -> None:
    # Scoring runs on plain outcomes; the FeatureScore models (pydantic) are made for reported pairs only - making
    # them for every pair scored was most of the audit's scoring time at a million records.
    built: list[int] = []
    real = batch_audit.feature_scores

    def counting(found):
        built.append(1)
        return real(found)

    monkeypatch.setattr(batch_audit, "feature_scores", counting)
    report = audit(DedupeIndex(DATASET.records))
    fuzzy = [p for p in report.pairs if p.rule == "fuzzy"]
    assert report.pairs_scored > len(fuzzy)
    assert len(built) == len(fuzzy)
    assert all(p.features and p.features[0].name == "name_chars" for p in fuzzy)


def test_r14_the_second_id_pass_compares_only_records_of_one_name_and_reports_what_all_pairs_would(
    monkeypatch,
) -> None:
    # Two valid ID numbers are compared only under the same name (features.comparable); the audit's second-ID pass
    # pairs a block's records of one name only, and must report exactly what pairing everyone would.
    index = DedupeIndex(DATASET.records)
    grouped = audit(index)
    monkeypatch.setattr(batch_audit, "_same_name_pairs", lambda numbers, rows: list(batch_audit._pairs_of(numbers)))
    everyone = audit(index)
    assert grouped.pairs == everyone.pairs
    assert grouped.pairs_scored == everyone.pairs_scored

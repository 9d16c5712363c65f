"""The batch audit (R01, R14, R51): every record in the index against every other, through the same blocks and the
same scoring as a single check, fast enough for a province's million records. Pairs sharing a resident ID are
duplicates; every other pair found is a suspected duplicate for review (R14).

Pairs of two records that both have a resident ID are compared only through the second-ID keys (same name, see
`features.comparable`), in a pass of their own; the filters below are for the blocks' other pairs, where no
ID-number evidence can apply.

A single check compares one request with every record of its blocks in Python. The audit instead takes each block
whole and computes the two name similarities of all its pairs at once (rapidfuzz's cdist, in C++ on every core);
only pairs whose names are not plainly different are scored in full by `compare`. The name filter is exactly the
boundary of the "different" name level (characters < 0.5 and reading < 0.7), and it is used only when the policy
makes a pair with different names unable to reach the review threshold whatever else agrees — so the audit finds
the same pairs the checks would (the benchmark verifies it on a sample); otherwise every pair is scored.
Birth dates are filtered the same way: the levels a pair cannot reach review with (by default "different", -7 bits)
are recognised for the whole block at once (Hamming distance of YYYYMMDD, and day/month swapped) and skipped.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import Hamming

from xueji_dedupe.domain.check import evidence_bits, identity_rule
from xueji_dedupe.domain.features import comparable, compare
from xueji_dedupe.domain.index import DedupeIndex
from xueji_dedupe.domain.policy import MatchPolicy, flagged, probability
from xueji_dedupe.domain.profile import PersonProfile
from xueji_dedupe.domain.verdict import FeatureScore, VerdictKind

T = TypeVar("T")
CHARS_CUTOFF = 50.0  # fuzz.ratio of the name keys below which the name level is "different" ...
SOUND_CUTOFF = 70.0  # ... together with the ratio of the readings below this (features._name_level)
PARALLEL_FROM = 300  # block size from which cdist runs on every core
SMALL_BLOCK = 12  # up to this many records a block's pairs are filtered one by one, not as matrices


@dataclass(frozen=True)
class AuditPair:
    """Two records the audit takes for one person (`duplicate`) or sends to review (`possible_duplicate`)."""

    first: str
    second: str
    kind: VerdictKind
    score: float
    rule: str  # id_number, status_number or fuzzy (second_id: two ID numbers of one name)
    features: tuple[FeatureScore, ...] = ()


@dataclass
class AuditReport:
    pairs: list[AuditPair] = field(default_factory=list)
    records: int = 0
    blocks: int = 0
    pairs_in_blocks: int = 0  # what comparing everything within blocks would have scored
    pairs_scored: int = 0  # what was scored in full after the name filter
    name_filter: bool = True


def _best(policy: MatchPolicy) -> dict[str, float]:
    """The largest weight each feature can add to a pair where at least one record has no resident ID."""
    w = policy.weights
    return {
        "name": max(
            w.name_identical,
            w.name_same_sound,
            w.name_alike,
            w.name_similar,
            w.name_one_char,
            w.name_partial,
            w.name_different,
            w.name_twins,
        ),
        "birth_date": max(
            w.birth_date_identical, w.birth_date_transposed, w.birth_date_one_digit, w.birth_date_different
        ),
        "gender": max(w.gender_same, w.gender_different),
        "region": max(w.region_same_county, w.region_same_city, w.region_same_province, w.region_different),
        "guardians": max(w.guardian_same, w.guardian_different, 0.0),  # 0: a record without guardians
    }


def _unreachable(policy: MatchPolicy, feature: str, weight: float) -> bool:
    """Can no pair with this outcome of `feature` reach the review threshold, whatever else agrees?"""
    bits = policy.prior_log2_odds + weight + sum(v for k, v in _best(policy).items() if k != feature)
    return not flagged(bits, policy)


def name_filter_is_safe(policy: MatchPolicy) -> bool:
    """Can a pair whose names are "different" still reach the review threshold? If not, skipping them loses none."""
    return _unreachable(policy, "name", policy.weights.name_different)


def date_filter(policy: MatchPolicy) -> tuple[bool, bool]:
    """(skip "different" birth dates, skip "one_digit" ones too): only when the policy makes them unreachable."""
    w = policy.weights
    different = _unreachable(policy, "birth_date", w.birth_date_different)
    return different, different and _unreachable(policy, "birth_date", w.birth_date_one_digit)


def audit(index: DedupeIndex, policy: MatchPolicy | None = None) -> AuditReport:
    policy = policy or MatchPolicy()
    report = AuditReport(records=len(index), name_filter=name_filter_is_safe(policy))
    dates = date_filter(policy)
    seen: set[tuple[str, str]] = set()
    for group in index.identity_groups():
        for first, second in _pairs_of(sorted(group)):
            if (first, second) not in seen:
                seen.add((first, second))
                rule = identity_rule(index.profile(first), index.profile(second))
                # Only the same resident ID is a duplicate outright; a bare status number is reviewed (R14).
                kind = VerdictKind.DUPLICATE if rule == "id_number" else VerdictKind.POSSIBLE_DUPLICATE
                report.pairs.append(AuditPair(first, second, kind, 1.0, rule))
    for _, members in index.blocks():
        ids = sorted(members)
        report.blocks += 1
        report.pairs_in_blocks += len(ids) * (len(ids) - 1) // 2
        profiles = [index.profile(i) for i in ids]
        if report.name_filter or dates[0]:
            candidates = _plausible(profiles, report.name_filter, dates)
        else:
            candidates = _pairs_of(list(range(len(ids))))
        for i, j in candidates:
            key = (ids[i], ids[j])
            if key in seen:
                continue
            seen.add(key)
            a, b = profiles[i], profiles[j]
            if a.reliable_ids and b.reliable_ids:
                continue  # two ID numbers: the second-ID pass below, as in a single check
            report.pairs_scored += 1
            _score(report, key, a, b, policy)
    for _, members in index.id_name_blocks():
        for first, second in _pairs_of(sorted(members)):
            if (first, second) in seen:
                continue
            seen.add((first, second))
            a, b = index.profile(first), index.profile(second)
            if comparable(a, b):
                report.pairs_scored += 1
                _score(report, (first, second), a, b, policy)
    return report


def _score(report: AuditReport, key: tuple[str, str], a: PersonProfile, b: PersonProfile, policy: MatchPolicy) -> None:
    features = compare(a, b, policy.weights)
    bits = evidence_bits(features, policy)
    if flagged(bits, policy):
        pair = AuditPair(key[0], key[1], VerdictKind.POSSIBLE_DUPLICATE, probability(bits), "fuzzy", features)
        report.pairs.append(pair)


def _plausible(profiles: list[PersonProfile], names: bool, dates: tuple[bool, bool]) -> Iterator[tuple[int, int]]:
    """Index pairs (i < j) of the block that can reach review, computed for the block at once: names not plainly
    different (if `names`), birth dates identical, swapped or (unless `dates[1]`) one digit off (if `dates[0]`)."""
    if len(profiles) <= SMALL_BLOCK:
        return _plausible_small(profiles, names, dates)
    keep = np.triu(np.ones((len(profiles), len(profiles)), dtype=bool), k=1)
    if dates[0]:
        keep &= _close_dates(profiles, one_digit=not dates[1])
    if names:
        workers = _workers(len(profiles))
        keys = [p.name_key for p in profiles]
        readings = [" ".join(p.syllables) for p in profiles]
        chars = process.cdist(keys, keys, scorer=fuzz.ratio, score_cutoff=CHARS_CUTOFF, workers=workers)
        sound = process.cdist(readings, readings, scorer=fuzz.ratio, score_cutoff=SOUND_CUTOFF, workers=workers)
        # A one-character name has no second position to agree on: keep its pairs (real names have two or more).
        short = np.array([len(k) <= 1 for k in keys])
        keep &= (chars >= CHARS_CUTOFF) | (sound >= SOUND_CUTOFF) | np.outer(short, short)
    rows, cols = np.nonzero(keep)
    return zip(rows.tolist(), cols.tolist(), strict=True)


def _plausible_small(profiles: list[PersonProfile], names: bool, dates: tuple[bool, bool]) -> Iterator[tuple[int, int]]:
    """`_plausible` for the many blocks of a few records, pair by pair: the same tests without the cost of building
    matrices, which dominates for blocks of two or three."""
    cutoff = 1 if not dates[1] else 0
    digits = [f"{p.facts.birth_date:%Y%m%d}" for p in profiles]
    keys = [p.name_key for p in profiles]
    readings = [" ".join(p.syllables) for p in profiles]
    for i, j in _pairs_of(list(range(len(profiles)))):
        if dates[0]:
            born = profiles[j].facts.birth_date
            swapped = f"{born.year:04d}{born.day:02d}{born.month:02d}"
            if Hamming.distance(digits[i], digits[j]) > cutoff and digits[i] != swapped:
                continue
        if names and not (
            fuzz.ratio(keys[i], keys[j]) >= CHARS_CUTOFF
            or fuzz.ratio(readings[i], readings[j]) >= SOUND_CUTOFF
            or (len(keys[i]) <= 1 and len(keys[j]) <= 1)
        ):
            continue
        yield i, j


def _workers(block: int) -> int:
    """Every core for a large block; one for the many small ones, where starting threads costs more than it saves."""
    return -1 if block >= PARALLEL_FROM else 1


def _close_dates(profiles: list[PersonProfile], one_digit: bool) -> np.ndarray:
    """Pairs whose birth dates are identical, day/month swapped, or (if `one_digit`) one digit of YYYYMMDD off."""
    born = [p.facts.birth_date for p in profiles]
    digits = [f"{d:%Y%m%d}" for d in born]
    swapped = [f"{d.year:04d}{d.day:02d}{d.month:02d}" for d in born]
    cutoff = 1 if one_digit else 0
    workers = _workers(len(profiles))
    near = process.cdist(digits, digits, scorer=Hamming.distance, score_cutoff=cutoff, dtype=np.int32, workers=workers)
    turned = process.cdist(digits, swapped, scorer=Hamming.distance, score_cutoff=0, dtype=np.int32, workers=workers)
    close: np.ndarray = (near <= cutoff) | (turned == 0)
    return close


def _pairs_of(items: Sequence[T]) -> Iterator[tuple[T, T]]:
    return ((items[i], items[j]) for i in range(len(items)) for j in range(i + 1, len(items)))

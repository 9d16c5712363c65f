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
from xueji_dedupe.domain.policy import MatchPolicy, date_filter, flagged, name_filter_is_safe, probability
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
    keys = _FilterKeys(index)
    for _, members in index.blocks():
        ids = sorted(members)
        report.blocks += 1
        report.pairs_in_blocks += len(ids) * (len(ids) - 1) // 2
        rows = [keys.row(i) for i in ids]
        profiles = [row.profile for row in rows]
        if report.name_filter or dates[0]:
            candidates = _plausible(rows, report.name_filter, dates)
        else:
            candidates = _pairs_of(list(range(len(ids))))
        for i, j in candidates:
            key = (ids[i], ids[j])
            a, b = profiles[i], profiles[j]
            if a.reliable_ids and b.reliable_ids:
                # Two ID numbers: the second-ID pass below, as in a single check. Not marked seen here, or that
                # pass would skip the pair (it did: a second ID one digit apart went unreported by the audit).
                continue
            if key in seen:
                continue
            seen.add(key)
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


@dataclass(frozen=True, slots=True)
class _Row:
    """What the block filters read of one record, computed once per audit: a record sits in about five blocks,
    and formatting its birth date and joining its reading in each of them was most of the filters' cost."""

    profile: PersonProfile
    name_key: str
    reading: str  # syllables joined by spaces, as the name filter compares them
    digits: str  # birth date as YYYYMMDD
    swapped: str  # the same with day and month swapped


class _FilterKeys:
    def __init__(self, index: DedupeIndex) -> None:
        self._index = index
        self._rows: dict[str, _Row] = {}

    def row(self, student_id: str) -> _Row:
        row = self._rows.get(student_id)
        if row is None:
            profile = self._index.profile(student_id)
            born = profile.facts.birth_date
            row = _Row(
                profile=profile,
                name_key=profile.name_key,
                reading=" ".join(profile.syllables),
                digits=f"{born.year:04d}{born.month:02d}{born.day:02d}",
                swapped=f"{born.year:04d}{born.day:02d}{born.month:02d}",
            )
            self._rows[student_id] = row
        return row


def _plausible(rows: list[_Row], names: bool, dates: tuple[bool, bool]) -> Iterator[tuple[int, int]]:
    """Index pairs (i < j) of the block that can reach review, computed for the block at once: names not plainly
    different (if `names`), birth dates identical, swapped or (unless `dates[1]`) one digit off (if `dates[0]`)."""
    if len(rows) <= SMALL_BLOCK:
        return _plausible_small(rows, names, dates)
    keep = np.triu(np.ones((len(rows), len(rows)), dtype=bool), k=1)
    if dates[0]:
        keep &= _close_dates(rows, one_digit=not dates[1])
    if names:
        workers = _workers(len(rows))
        keys = [r.name_key for r in rows]
        readings = [r.reading for r in rows]
        chars = process.cdist(keys, keys, scorer=fuzz.ratio, score_cutoff=CHARS_CUTOFF, workers=workers)
        sound = process.cdist(readings, readings, scorer=fuzz.ratio, score_cutoff=SOUND_CUTOFF, workers=workers)
        # A one-character name has no second position to agree on: keep its pairs (real names have two or more).
        short = np.array([len(k) <= 1 for k in keys])
        keep &= (chars >= CHARS_CUTOFF) | (sound >= SOUND_CUTOFF) | np.outer(short, short)
    rows_i, cols = np.nonzero(keep)
    return zip(rows_i.tolist(), cols.tolist(), strict=True)


def _plausible_small(rows: list[_Row], names: bool, dates: tuple[bool, bool]) -> Iterator[tuple[int, int]]:
    """`_plausible` for the many blocks of a few records, pair by pair: the same tests without the cost of building
    matrices, which dominates for blocks of two or three."""
    cutoff = 1 if not dates[1] else 0
    n = len(rows)
    for i in range(n):
        a = rows[i]
        for j in range(i + 1, n):
            b = rows[j]
            if (
                dates[0]
                and a.digits != b.digits
                and Hamming.distance(a.digits, b.digits) > cutoff
                and a.digits != b.swapped
            ):
                continue
            if names and not (
                a.name_key == b.name_key
                or fuzz.ratio(a.name_key, b.name_key) >= CHARS_CUTOFF
                or fuzz.ratio(a.reading, b.reading) >= SOUND_CUTOFF
                or (len(a.name_key) <= 1 and len(b.name_key) <= 1)
            ):
                continue
            yield i, j


def _workers(block: int) -> int:
    """Every core for a large block; one for the many small ones, where starting threads costs more than it saves."""
    return -1 if block >= PARALLEL_FROM else 1


def _close_dates(rows: list[_Row], one_digit: bool) -> np.ndarray:
    """Pairs whose birth dates are identical, day/month swapped, or (if `one_digit`) one digit of YYYYMMDD off."""
    digits = [r.digits for r in rows]
    swapped = [r.swapped for r in rows]
    cutoff = 1 if one_digit else 0
    workers = _workers(len(rows))
    near = process.cdist(digits, digits, scorer=Hamming.distance, score_cutoff=cutoff, dtype=np.int32, workers=workers)
    turned = process.cdist(digits, swapped, scorer=Hamming.distance, score_cutoff=0, dtype=np.int32, workers=workers)
    close: np.ndarray = (near <= cutoff) | (turned == 0)
    return close


def _pairs_of(items: Sequence[T]) -> Iterator[tuple[T, T]]:
    return ((items[i], items[j]) for i in range(len(items)) for j in range(i + 1, len(items)))

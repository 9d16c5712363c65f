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
are skipped. A large block whose records are not all born on one date (or its day/month swap) finds its pairs of
close dates by hashing instead of comparing all pairs: records one digit of YYYYMMDD apart share exactly one of the
eight keys with that digit blanked, and records born on one date or its swap share the date's class. Only those
pairs' names are then compared (rapidfuzz's cpdist). In the large blocks that share only city, year and surname this
leaves a few per cent of the pairs - at a million records they were most of the audit's work.

Scoring works on plain outcomes (`features.outcomes`); the FeatureScore models a report shows are made only for the
pairs it reports, as in a single check.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import TypeVar

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import Hamming

from xueji_dedupe.domain.check import evidence_bits, identity_rule
from xueji_dedupe.domain.features import comparable, feature_scores, outcomes
from xueji_dedupe.domain.index import DedupeIndex
from xueji_dedupe.domain.policy import MatchPolicy, date_filter, flagged, name_filter_is_safe, probability
from xueji_dedupe.domain.profile import PersonProfile
from xueji_dedupe.domain.verdict import FeatureScore, VerdictKind

T = TypeVar("T")
CHARS_CUTOFF = 50.0  # fuzz.ratio of the name keys below which the name level is "different" ...
SOUND_CUTOFF = 70.0  # ... together with the ratio of the readings below this (features._name_level)
PARALLEL_FROM = 300  # block size from which cdist runs on every core
SMALL_BLOCK = 12  # up to this many records a block's pairs are filtered one by one, not as matrices
HASH_DATES_FROM = 60  # from this many records a block's close dates are found by hashing, not as a matrix
DATE_DIGITS = 8  # YYYYMMDD


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
    people = _People(index)
    rows = people.rows
    # Records are numbered in student-id order, so a pair (i < j) is (first, second) as before; a pair's number
    # i * n + j is what `seen` holds: a million records put millions of pairs there, tuples of strings cost more.
    n = len(rows)
    seen: set[int] = set()
    for group in index.identity_groups():
        for i, j in _pairs_of(people.numbers(group)):
            if i * n + j not in seen:
                seen.add(i * n + j)
                a, b = rows[i], rows[j]
                rule = identity_rule(a.profile, b.profile)
                # Only the same resident ID is a duplicate outright; a bare status number is reviewed (R14).
                kind = VerdictKind.DUPLICATE if rule == "id_number" else VerdictKind.POSSIBLE_DUPLICATE
                report.pairs.append(AuditPair(a.student_id, b.student_id, kind, 1.0, rule))
    for _, members in index.blocks():
        numbers = people.numbers(members)
        report.blocks += 1
        report.pairs_in_blocks += len(numbers) * (len(numbers) - 1) // 2
        for i, j in _plausible([rows[k] for k in numbers], report.name_filter, dates):
            a, b = rows[numbers[i]], rows[numbers[j]]
            if a.with_id and b.with_id:
                # Two ID numbers: the second-ID pass below, as in a single check. Not marked seen here, or that
                # pass would skip the pair (it did: a second ID one digit apart went unreported by the audit).
                continue
            key = numbers[i] * n + numbers[j]
            if key in seen:
                continue
            seen.add(key)
            report.pairs_scored += 1
            _score(report, a, b, policy)
    for _, members in index.id_name_blocks():
        for i, j in _same_name_pairs(people.numbers(members), rows):
            if i * n + j in seen:
                continue
            seen.add(i * n + j)
            a, b = rows[i], rows[j]
            if comparable(a.profile, b.profile):
                report.pairs_scored += 1
                _score(report, a, b, policy)
    return report


def _score(report: AuditReport, a: _Row, b: _Row, policy: MatchPolicy) -> None:
    found = outcomes(a.profile, b.profile, policy.weights)
    bits = evidence_bits(found, policy)
    if flagged(bits, policy):
        features = feature_scores(found)
        kind = VerdictKind.POSSIBLE_DUPLICATE
        report.pairs.append(AuditPair(a.student_id, b.student_id, kind, probability(bits), "fuzzy", features))


@dataclass(slots=True)  # not frozen: a frozen dataclass's __init__ cost more than the rest of the row
class _Row:
    """What the block filters read of one record, computed once per audit: a record sits in about five blocks,
    and formatting its birth date and joining its reading in each of them was most of the filters' cost."""

    student_id: str
    profile: PersonProfile
    with_id: bool  # has a reliable resident ID
    name_key: str
    reading: str  # syllables joined by spaces, as the name filter compares them
    digits: str  # birth date as YYYYMMDD
    swapped: str  # the same with day and month swapped
    date_class: int  # the same for two records born on one date or on its day/month swap (and only for them)
    date: int  # YYYYMMDD as a number


class _People:
    """Every record of the index once, numbered in student-id order."""

    def __init__(self, index: DedupeIndex) -> None:
        ids = sorted(index.student_ids())
        self._number = {student_id: k for k, student_id in enumerate(ids)}
        self.rows = [_row(student_id, index.profile(student_id)) for student_id in ids]

    def numbers(self, student_ids: Iterable[str]) -> list[int]:
        number = self._number
        return sorted([number[student_id] for student_id in student_ids])


def _row(student_id: str, profile: PersonProfile) -> _Row:
    born = profile.facts.birth_date
    digits = f"{born.year:04d}{born.month:02d}{born.day:02d}"
    swapped = f"{born.year:04d}{born.day:02d}{born.month:02d}"
    return _Row(
        student_id=student_id,
        profile=profile,
        with_id=bool(profile.reliable_ids),
        name_key=profile.name_key,
        reading=" ".join(profile.syllables),
        digits=digits,
        swapped=swapped,
        date_class=-int(min(digits, swapped)),  # negative: never one of the blanked keys of `_close_dates`
        date=int(digits),
    )


def _plausible(rows: list[_Row], names: bool, dates: tuple[bool, bool]) -> Iterator[tuple[int, int]]:
    """Index pairs (i < j, in row-major order) of the block that can reach review: names not plainly different (if
    `names`), birth dates identical, swapped or (unless `dates[1]`) one digit off (if `dates[0]`)."""
    if len(rows) <= SMALL_BLOCK:
        return _plausible_small(rows, names, dates)
    if dates[0] and len(rows) >= HASH_DATES_FROM and len({r.date_class for r in rows}) > 1:
        first, second = _close_dates(rows, one_digit=not dates[1])
        if names and len(first):
            keep = _names_alike_pairwise(rows, first, second)
            first, second = first[keep], second[keep]
        return zip(first.tolist(), second.tolist(), strict=True)
    # Every pair's dates are identical or swapped, or the block is small enough for matrices to be cheaper.
    keep = np.triu(np.ones((len(rows), len(rows)), dtype=bool), k=1)
    if dates[0] and len(rows) < HASH_DATES_FROM:
        keep &= _close_dates_matrix(rows, one_digit=not dates[1])
    if names:
        keep &= _names_alike_matrix(rows)
    rows_i, cols = np.nonzero(keep)
    return zip(rows_i.tolist(), cols.tolist(), strict=True)


def _names_alike_matrix(rows: list[_Row]) -> np.ndarray:
    workers = _workers(len(rows))
    keys = [r.name_key for r in rows]
    readings = [r.reading for r in rows]
    chars = process.cdist(keys, keys, scorer=fuzz.ratio, score_cutoff=CHARS_CUTOFF, workers=workers)
    sound = process.cdist(readings, readings, scorer=fuzz.ratio, score_cutoff=SOUND_CUTOFF, workers=workers)
    # A one-character name has no second position to agree on: keep its pairs (real names have two or more).
    short = np.array([len(k) <= 1 for k in keys])
    alike: np.ndarray = (chars >= CHARS_CUTOFF) | (sound >= SOUND_CUTOFF) | np.outer(short, short)
    return alike


def _names_alike_pairwise(rows: list[_Row], first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """`_names_alike_matrix` for the given pairs only."""
    keys = [r.name_key for r in rows]
    readings = [r.reading for r in rows]
    pick_a, pick_b = first.tolist(), second.tolist()
    chars = process.cpdist(
        [keys[i] for i in pick_a], [keys[j] for j in pick_b], scorer=fuzz.ratio, score_cutoff=CHARS_CUTOFF
    )
    sound = process.cpdist(
        [readings[i] for i in pick_a], [readings[j] for j in pick_b], scorer=fuzz.ratio, score_cutoff=SOUND_CUTOFF
    )
    short = np.array([len(k) <= 1 for k in keys])
    alike: np.ndarray = (chars >= CHARS_CUTOFF) | (sound >= SOUND_CUTOFF) | (short[first] & short[second])
    return alike


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


def _close_dates_matrix(rows: list[_Row], one_digit: bool) -> np.ndarray:
    """`_close_dates` as a matrix of all the block's pairs."""
    digits = [r.digits for r in rows]
    swapped = [r.swapped for r in rows]
    cutoff = 1 if one_digit else 0
    workers = _workers(len(rows))
    near = process.cdist(digits, digits, scorer=Hamming.distance, score_cutoff=cutoff, dtype=np.int32, workers=workers)
    turned = process.cdist(digits, swapped, scorer=Hamming.distance, score_cutoff=0, dtype=np.int32, workers=workers)
    close: np.ndarray = (near <= cutoff) | (turned == 0)
    return close


def _close_dates(rows: list[_Row], one_digit: bool) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (i < j, row-major order) whose birth dates are identical or day/month swapped (one date class), or
    (if `one_digit`) one digit of YYYYMMDD apart: such a pair shares exactly one of the keys of its date with one
    digit blanked (position and the other seven digits), and a pair of one class shares none it does not share in
    full, so no pair comes twice."""
    groups: dict[int, list[int]] = {}
    for k, row in enumerate(rows):
        groups.setdefault(row.date_class, []).append(k)
        if one_digit:
            born = row.date
            for position, scale in enumerate(_DIGIT_SCALES, start=1):
                groups.setdefault(position * _BLANKED + born - born // scale % 10 * scale, []).append(k)
    first: list[int] = []
    second: list[int] = []
    for key, members in groups.items():
        if len(members) < 2:
            continue
        for i, j in combinations(members, 2):
            # Two records of one date share all eight blanked keys: their class has taken them.
            if key > 0 and rows[i].date == rows[j].date:
                continue
            first.append(i)
            second.append(j)
    a, b = np.array(first, dtype=np.int64), np.array(second, dtype=np.int64)
    order = np.lexsort((b, a))
    return a[order], b[order]


_DIGIT_SCALES = tuple(10**p for p in range(DATE_DIGITS - 1, -1, -1))  # YYYYMMDD's digits, first to last
_BLANKED = 10**DATE_DIGITS  # blanked keys: position * this + the date without that digit (always > 0)


def _same_name_pairs(numbers: list[int], rows: list[_Row]) -> list[tuple[int, int]]:
    """The pairs of a second-ID block (in row-major order) whose names are the same: two ID numbers are compared
    only then (`features.comparable`). The blocks of one number without its birth-date digits hold every name of a
    county's sequence number and grow with the square of the records; most of their pairs are other names."""
    by_name: dict[str, list[int]] = {}
    for k in numbers:
        by_name.setdefault(rows[k].name_key, []).append(k)
    if len(by_name) == 1:
        return list(_pairs_of(numbers))
    return sorted(pair for group in by_name.values() for pair in _pairs_of(group))


def _pairs_of(items: Sequence[T]) -> Iterator[tuple[T, T]]:
    return ((items[i], items[j]) for i in range(len(items)) for j in range(i + 1, len(items)))

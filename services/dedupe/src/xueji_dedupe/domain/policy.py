"""The knobs of fuzzy matching (R14): evidence weights, the prior and the review threshold, from the province policy.

There is no duplicate threshold: only the same valid resident ID number refuses outright (R14); every other likeness
whose evidence reaches the review threshold is a suspected duplicate for the county bureau. The schema (with its
defaults and the rule that keeps the threshold off the grid of possible sums) is the province policy's
`duplicate_check` section, `xueji_contracts.policy.model.DuplicateCheck`.
"""

from __future__ import annotations

import math

from xueji_contracts.policy.model import DuplicateCheck, MatchWeights

FeatureWeights = MatchWeights
MatchPolicy = DuplicateCheck


def probability(bits: float) -> float:
    """The match probability of `bits` of evidence (log2 odds), clamped so that no policy overflows the float."""
    return 1.0 / (1.0 + math.exp2(-max(-512.0, min(512.0, bits))))


def flagged(bits: float, policy: MatchPolicy) -> bool:
    """A suspected duplicate: the evidence reaches the threshold (never exactly on it, see DuplicateCheck)."""
    return bits >= policy.review_threshold_bits


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
            w.birth_date_identical,
            w.birth_date_transposed,
            w.birth_date_one_digit,
            w.birth_date_one_digit_near_name,
            w.birth_date_different,
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
    one_digit = max(w.birth_date_one_digit, w.birth_date_one_digit_near_name)
    return different, different and _unreachable(policy, "birth_date", one_digit)


__all__ = ["FeatureWeights", "MatchPolicy", "date_filter", "flagged", "name_filter_is_safe", "probability"]

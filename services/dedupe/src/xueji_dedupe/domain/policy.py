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


__all__ = ["FeatureWeights", "MatchPolicy", "flagged", "probability"]

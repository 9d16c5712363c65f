"""The duplicate check: exact on identifying numbers, then fuzzy within blocks (R01, R03, R14)."""

from __future__ import annotations

import math

from xueji_dedupe.domain import reasons
from xueji_dedupe.domain.features import compare
from xueji_dedupe.domain.index import DedupeIndex
from xueji_dedupe.domain.model import CheckRequest
from xueji_dedupe.domain.policy import MatchPolicy
from xueji_dedupe.domain.profile import PersonProfile, profile_of
from xueji_dedupe.domain.verdict import FeatureScore, MatchedRecord, Verdict, VerdictKind


def match_probability(features: tuple[FeatureScore, ...], policy: MatchPolicy) -> float:
    """Posterior probability of "same person": the prior odds times the evidence, as a logistic in base 2."""
    bits = policy.prior_log2_odds + sum(feature.weight for feature in features)
    # Clamped so that an extreme policy cannot overflow the float; 2**-512 already reads as 1.
    return 1.0 / (1.0 + math.exp2(-max(-512.0, min(512.0, bits))))


def check(index: DedupeIndex, request: CheckRequest, policy: MatchPolicy | None = None) -> Verdict:
    """Is the person in the request already in the index?

    A shared resident ID (or a G number's ID part, or the same status number) is a duplicate outright.
    Otherwise the request is compared with the records that share a blocking key, skipping any whose
    resident ID differs from the request's: two valid ID numbers are two persons (a mistyped ID fails
    its check character, R06). The record being changed never matches itself.
    """
    policy = policy or MatchPolicy()
    probe = profile_of(request)

    exact = _exact_matches(index, probe, request.student_id)
    if exact:
        zh, en = reasons.exact(exact[0])
        return Verdict(
            kind=VerdictKind.DUPLICATE,
            score=1.0,
            matches=exact[: policy.max_matches],
            features=exact[0].features,
            reason_zh=zh,
            reason_en=en,
            candidates_compared=0,
        )

    # Nobody else shares a resident ID with the request (that was answered above), and two valid resident IDs are
    # two persons: a request with one is compared only with the records that have none.
    blocked = index.same_block_without_ids if probe.reliable_ids else index.same_block
    candidates = blocked(probe.blocking_keys) - {request.student_id}
    scored: list[MatchedRecord] = []
    for student_id in candidates:
        other = index.profile(student_id)
        features = compare(probe, other, policy.weights)
        score = match_probability(features, policy)
        if score >= policy.review_threshold:
            status_number = other.facts.status_number
            scored.append(
                MatchedRecord(
                    student_id=student_id, status_number=status_number, score=score, rule="fuzzy", features=features
                )
            )
    return _fuzzy_verdict(scored, len(candidates), policy)


def identity_rule(a: PersonProfile, b: PersonProfile) -> str:
    """Which identity two profiles share: a resident ID (or a G number's ID part), else a status number."""
    shared = a.identity_keys & b.identity_keys
    return "id_number" if any(key.startswith("id:") for key in shared) else "status_number"


def _exact_matches(index: DedupeIndex, probe: PersonProfile, own_id: str | None) -> list[MatchedRecord]:
    matches: list[MatchedRecord] = []
    for student_id in sorted(index.same_identity(probe.identity_keys) - {own_id}):
        other = index.profile(student_id)
        rule = identity_rule(probe, other)
        evidence = FeatureScore(name=rule, level="identical", similarity=1.0, weight=0.0)
        matches.append(
            MatchedRecord(
                student_id=student_id,
                status_number=other.facts.status_number,
                score=1.0,
                rule=rule,
                features=(evidence,),
            )
        )
    # An ID-number match outranks a bare status-number match in the reason shown first.
    return sorted(matches, key=lambda match: match.rule != "id_number")


def _fuzzy_verdict(scored: list[MatchedRecord], compared: int, policy: MatchPolicy) -> Verdict:
    if not scored:
        zh, en = reasons.unique(compared)
        return Verdict(kind=VerdictKind.UNIQUE, score=0.0, reason_zh=zh, reason_en=en, candidates_compared=compared)
    ranked = sorted(scored, key=lambda match: (-match.score, match.student_id))[: policy.max_matches]
    best = ranked[0]
    duplicate = best.score >= policy.duplicate_threshold
    zh, en = reasons.fuzzy(best, review=not duplicate)
    return Verdict(
        kind=VerdictKind.DUPLICATE if duplicate else VerdictKind.POSSIBLE_DUPLICATE,
        score=best.score,
        matches=tuple(ranked),
        features=best.features,
        reason_zh=zh,
        reason_en=en,
        candidates_compared=compared,
    )

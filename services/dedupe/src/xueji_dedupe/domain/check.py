"""The duplicate check (R01, R03, R14): the same valid resident ID number refuses outright; every other likeness
whose evidence reaches the review threshold is a suspected duplicate (疑似重复) for the county bureau's review."""

from __future__ import annotations

from collections.abc import Sequence

from xueji_dedupe.domain import reasons
from xueji_dedupe.domain.features import Outcome, birth_date_level, comparable, feature_scores, outcomes
from xueji_dedupe.domain.index import DedupeIndex
from xueji_dedupe.domain.model import CheckRequest
from xueji_dedupe.domain.policy import MatchPolicy, date_filter, flagged, probability
from xueji_dedupe.domain.profile import PersonProfile, profile_of
from xueji_dedupe.domain.verdict import FeatureScore, MatchedRecord, Verdict, VerdictKind


def evidence_bits(features: Sequence[FeatureScore] | Sequence[Outcome], policy: MatchPolicy) -> float:
    """The pair's evidence for "one child": the prior log2 odds plus every outcome's weight."""
    return policy.prior_log2_odds + sum(feature.weight for feature in features)


def match_probability(features: tuple[FeatureScore, ...], policy: MatchPolicy) -> float:
    """Posterior probability of "same person": the prior odds times the evidence, as a logistic in base 2."""
    return probability(evidence_bits(features, policy))


def candidates_of(index: DedupeIndex, probe: PersonProfile, own_id: str | None) -> set[str]:
    """The records a request is compared with: those sharing a blocking key, but of the records with a resident ID
    only those the second-ID rule could take for the same child (same name, see `comparable`) when the request has
    an ID too. The record being changed never matches itself."""
    if probe.reliable_ids:
        found = index.same_block_without_ids(probe.blocking_keys) | index.same_id_name(probe.id_name_keys)
    else:
        found = index.same_block(probe.blocking_keys)
    found.discard(own_id or "")
    return found


def check(index: DedupeIndex, request: CheckRequest, policy: MatchPolicy | None = None) -> Verdict:
    """Is the person in the request already in the index?

    A shared resident ID (or a G number's ID part) is a duplicate outright (R01). Anything else is fuzzy: the
    request is scored against its candidates, and any whose evidence reaches the review threshold makes the
    request a suspected duplicate; there is no fuzzy refusal (R14). Two valid resident ID numbers are two persons
    unless the second-ID rule says they may be one (`features.comparable`).
    """
    policy = policy or MatchPolicy()
    probe = profile_of(request)

    exact = _exact_matches(index, probe, request.student_id)
    if exact and exact[0].rule == "id_number":
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

    candidates = candidates_of(index, probe, request.student_id)
    scored: list[MatchedRecord] = list(exact)  # a bare status-number match: reviewed, never refused (R14)
    hopeless = _hopeless_dates(policy)
    born = probe.facts.birth_date
    for student_id in candidates - {m.student_id for m in exact}:
        other = index.profile(student_id)
        if not comparable(probe, other):
            continue
        # The audit's date filter, before any object is made: with at most one ID number in the pair, a birth
        # date at these levels cannot reach review whatever else agrees (the policy says so, `date_filter`).
        if (
            hopeless
            and not (probe.reliable_ids and other.reliable_ids)
            and birth_date_level(born, other.facts.birth_date) in hopeless
        ):
            continue
        found = outcomes(probe, other, policy.weights)
        bits = evidence_bits(found, policy)
        if flagged(bits, policy):
            status_number = other.facts.status_number
            scored.append(
                MatchedRecord(
                    student_id=student_id,
                    status_number=status_number,
                    score=probability(bits),
                    rule="fuzzy",
                    features=feature_scores(found),
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
    zh, en = reasons.fuzzy(best, review=True)
    return Verdict(
        kind=VerdictKind.POSSIBLE_DUPLICATE,
        score=best.score,
        matches=tuple(ranked),
        features=best.features,
        reason_zh=zh,
        reason_en=en,
        candidates_compared=compared,
    )


def _hopeless_dates(policy: MatchPolicy) -> frozenset[str]:
    """Birth-date levels with which a pair having at most one resident ID cannot reach review under `policy`."""
    different, one_digit = date_filter(policy)
    return frozenset(level for level, skip in (("different", different), ("one_digit", one_digit)) if skip)

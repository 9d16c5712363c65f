"""Domain verdicts as contract messages, and what a county reviewer reads about each record (IDs masked, R52)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal

from xueji_contracts.division import Division
from xueji_contracts.identity import mask_id_number
from xueji_contracts.messages.dedupe import (
    CheckRequested,
    FeatureEvidence,
    MatchedStatus,
    PersonIdentity,
    RegisterOutcome,
    VerdictGiven,
    VerdictKind,
)
from xueji_contracts.messages.dedupe_review import ReviewCaseOpened
from xueji_dedupe.domain import CandidateRecord, Verdict
from xueji_dedupe.domain.pairs import cleared_reason
from xueji_dedupe.feed import region_of

_REGISTER_PHRASES = {
    RegisterOutcome.MATCH: ("人口信息比对一致", "the population register agrees"),
    RegisterOutcome.MISMATCH: ("人口信息比对不一致", "the population register disagrees"),
    RegisterOutcome.NOT_FOUND: ("人口信息库中未找到该身份证号", "the ID number is not in the population register"),
}


def verdict_message(
    verdict: Verdict,
    request: CheckRequested,
    *,
    tier: Literal["province", "national"],
    register: RegisterOutcome | None = None,
) -> VerdictGiven:
    zh, en = verdict.reason_zh, verdict.reason_en
    if register is not None:
        zh, en = f"{zh}；{_REGISTER_PHRASES[register][0]}", f"{en}; {_REGISTER_PHRASES[register][1]}"
    return VerdictGiven(
        verdict=VerdictKind(verdict.kind.value),
        purpose=request.purpose,
        student_id=request.student_id or "",
        score=verdict.score,
        existing_student_id=verdict.matches[0].student_id if verdict.matches else None,
        matches=tuple(
            MatchedStatus(student_id=m.student_id, status_number=m.status_number, score=m.score, rule=m.rule)
            for m in verdict.matches
        ),
        features=tuple(FeatureEvidence.model_validate(f.model_dump()) for f in verdict.features),
        reason_zh=zh,
        reason_en=en,
        population_register=register,
        tier=tier,
    )


def without_cleared(answer: VerdictGiven, cleared: dict[str, str]) -> VerdictGiven:
    """A "possible duplicate" without the records the county already found different persons (`cleared`: candidate
    -> the case that found it, R14): unique when none is left, else naming the first one left (the evidence given
    was the first match's: kept only when that match is)."""
    kept = tuple(m for m in answer.matches if m.student_id not in cleared)
    said = [cleared_reason(case) for case in dict.fromkeys(cleared.values())]
    zh = "；".join([answer.reason_zh, *(z for z, _ in said)])
    en = "; ".join([answer.reason_en, *(e for _, e in said)])
    if not kept:
        update: dict[str, Any] = {"verdict": VerdictKind.UNIQUE, "existing_student_id": None, "matches": (),
                                  "features": ()}  # fmt: skip
    else:
        same_first = bool(answer.matches) and kept[0] == answer.matches[0]
        update = {"existing_student_id": kept[0].student_id, "score": kept[0].score, "matches": kept,
                  "features": answer.features if same_first else ()}  # fmt: skip
    return answer.model_copy(update=update | {"reason_zh": zh, "reason_en": en})


def _masked(number: str | None) -> str | None:
    return mask_id_number(number) if number else None


def reviewer_view_of_request(request: PersonIdentity) -> dict[str, Any]:
    return {
        "student_id": request.student_id,
        "name": request.name,
        "birth_date": request.birth_date.isoformat(),
        "gender": request.gender,
        "region_code": region_of(request),
        "school_code": request.school_code,
        "id_number_masked": _masked(request.id_number),
        "status_number_masked": _masked(request.status_number),
        "guardians": list(request.guardians),
        "household_register": request.household_register,
    }


def reviewer_view_of_record(record: CandidateRecord | None, match: MatchedStatus) -> dict[str, Any]:
    """A matched record as the reviewer sees it; a record outside this index (national) shows its id only."""
    view: dict[str, Any] = {
        "student_id": match.student_id,
        "score": match.score,
        "rule": match.rule,
        "status_number_masked": _masked(match.status_number),
    }
    if record is not None:
        view |= {
            "name": record.name,
            "birth_date": record.birth_date.isoformat(),
            "gender": record.gender.value,
            "region_code": record.region_code,
            "school_code": record.school_code,
            "id_number_masked": _masked(record.id_number),
            "guardians": list(record.guardians),
        }
    return view


def case_opened(
    request: CheckRequested,
    answer: VerdictGiven,
    now: datetime,
    indexed: Callable[[str], CandidateRecord | None],
    deadline: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The event opening a review case for the bureau of the new record's county (R14, R50)."""
    case = ReviewCaseOpened(
        case_id=answer.review_case_id or "",
        county_code=Division.parse(request.school_code).county.code,
        school_code=request.school_code,
        student_id=request.student_id,
        candidate_student_id=answer.existing_student_id or "",
        score=answer.score,
        reason_zh=answer.reason_zh,
        reason_en=answer.reason_en,
        opened_at=now,
        **(deadline or {}),
    )
    return {
        "type": "ReviewCaseOpened",
        "case": case.model_dump(mode="json"),
        "purpose": request.purpose.value,
        "request": reviewer_view_of_request(request),
        "matches": [reviewer_view_of_record(indexed(m.student_id), m) for m in answer.matches],
        "evidence": [f.model_dump(mode="json") for f in answer.features],  # of the best match, with its weight
        "at": now.isoformat(),
    }

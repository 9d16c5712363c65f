"""The checks a change waits for after the county approved it (R10 key information, R04 J -> G): the registry asks
dedupe (which asks the national tier: duplicate check and population-register comparison) and records the answer.

The question goes out in the same commit as the approval that opened the wait, derived by comparing the record
before and after, so no path can approve a change without asking. Its correlation id is derived from the student
and the change, so the answer finds the change it is for.

R14: an answer "possible duplicate" with its county review case leaves the change waiting for the county (never
refused without that review); see `handlers.review`. When the county finds a different person and the change still
needs the national tier (R10, R03), it is asked again, under a correlation derived from the change and the case and
naming the cleared case, so dedupe forwards it to the national tier instead of answering "possible duplicate" again.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from xueji_contracts.auth import OperatorClaims, Role
from xueji_contracts.envelope import envelop
from xueji_contracts.messages.dedupe import CheckPurpose, CheckRequested, RegisterOutcome, VerdictGiven, VerdictKind
from xueji_contracts.topics import DEDUPE_CHECK
from xueji_kit.outbox_entries import Outgoing
from xueji_registry.domain import ChangeKind, RecordNationalChecks, ReferDuplicateCheck, StudentStatus
from xueji_registry.domain.event_base import CheckOutcome
from xueji_registry.domain.numbers import formal_number
from xueji_registry.domain.state import ChangePhase, PendingChange

NAMESPACE = uuid.UUID("6c1d3e0a-7b0f-4a55-9a57-5f1c9d2b8e41")
PURPOSE = {
    ChangeKind.KEY_INFO: CheckPurpose.KEY_INFO_CHANGE,
    ChangeKind.FORMAL_NUMBER: CheckPurpose.G_NUMBER_ISSUANCE,
    ChangeKind.REAPPLY_FORMAL_NUMBER: CheckPurpose.G_NUMBER_ISSUANCE,  # R05: the re-applied G number is checked too
}


def correlation_of(student_id: str, change_id: str, cleared_case_id: str | None = None) -> uuid.UUID:
    """The check of a change; asked again after the county cleared a suspected duplicate, the check of that case."""
    if cleared_case_id is None:
        return uuid.uuid5(NAMESPACE, f"{student_id}/{change_id}")
    return uuid.uuid5(NAMESPACE, f"{student_id}/{change_id}/{cleared_case_id}")


def _cleared(change: PendingChange) -> str | None:
    return change.review.case_id if change.review is not None and change.review.cleared else None


def _current(student_id: str, change: PendingChange) -> uuid.UUID:
    """The correlation of the check the change waits for now."""
    return correlation_of(student_id, change.change_id, _cleared(change))


def _waiting(state: StudentStatus | None) -> dict[str, PendingChange]:
    if state is None:
        return {}
    return {p.change_id: p for p in state.pending if p.phase is ChangePhase.AWAITING_NATIONAL_CHECKS}


def _under_review(change: PendingChange) -> bool:
    """Waiting for the county's decision on a suspected duplicate (R14), not for an answer."""
    return change.review is not None and not change.review.cleared


def _asking(state: StudentStatus | None) -> dict[str, uuid.UUID]:
    """The checks the waiting changes wait for: one per change, asked again once the county cleared its suspected
    duplicate; none while the county reviews one."""
    if state is None:
        return {}
    waiting = _waiting(state).values()
    return {c.change_id: _current(state.student_id, c) for c in waiting if c.kind in PURPOSE and not _under_review(c)}


def _question(state: StudentStatus, change: PendingChange) -> CheckRequested:
    """The identity as it would be once the change applies: that is what must be unique and match the register."""
    details = change.details
    name = getattr(details, "name", None) or state.identity.name
    id_number = getattr(details, "id_number", None) or state.identity.id_number
    number = formal_number(id_number) if change.kind is ChangeKind.FORMAL_NUMBER and id_number else None
    if change.kind is ChangeKind.REAPPLY_FORMAL_NUMBER:
        number = getattr(details, "number", None) or (formal_number(id_number) if id_number else None)
    return CheckRequested(
        student_id=state.student_id,
        name=name,
        id_number=id_number,
        birth_date=state.identity.birth_date,
        gender=state.identity.gender.value,
        school_code=state.school_code,
        guardians=state.basic.guardian_names(),
        household_register=state.basic.household_register,
        status_number=number or state.status_number,
        purpose=PURPOSE[change.kind],
        cleared_review_case_id=_cleared(change),
    )


def check_requests(province: str, before: StudentStatus | None, after: StudentStatus) -> list[Outgoing]:
    """One question per change that has just started waiting for the national checks, or is to be asked again at the
    national tier after the county cleared a suspected duplicate (R14)."""
    asked = _asking(before)
    changes = _waiting(after)
    outgoing = []
    for change_id, correlation in _asking(after).items():
        if asked.get(change_id) == correlation:
            continue
        change = changes[change_id]
        message = envelop(
            _question(after, change),
            producer="registry",
            province=province,
            occurred_at=datetime.now(UTC),
            correlation_id=correlation,
        )
        outgoing.append(Outgoing(DEDUPE_CHECK.name, str(correlation), message))
    return outgoing


REGISTER = {RegisterOutcome.MATCH: CheckOutcome.PASSED}


def answer_for(
    state: StudentStatus, correlation_id: uuid.UUID, verdict: VerdictGiven
) -> RecordNationalChecks | ReferDuplicateCheck | None:
    """The answer as the command that records it on the change it is for; None when no change waits for it (a change
    waiting for the county's review of a suspected duplicate waits for the county, not for this answer).

    R14: "possible duplicate" with its county review case is referred to the county; the change keeps waiting."""
    change = next((c for c in _waiting(state).values() if _current(state.student_id, c) == correlation_id), None)
    if change is None or _under_review(change):
        return None
    register = verdict.population_register
    identity = CheckOutcome.NOT_RUN if register is None else REGISTER.get(register, CheckOutcome.FAILED)
    if verdict.verdict is VerdictKind.POSSIBLE_DUPLICATE and verdict.review_case_id:
        return ReferDuplicateCheck(
            operator=OperatorClaims(sub=f"dedupe-{verdict.tier}", role=Role.COUNTY, code=state.county_code),
            reason=f"{verdict.tier} duplicate check: {verdict.reason_en}; county review case {verdict.review_case_id}",
            change_id=change.change_id,
            review_case_id=verdict.review_case_id,
            tier=verdict.tier,
            identity_comparison=identity,
        )
    return RecordNationalChecks(
        operator=OperatorClaims(sub=f"dedupe-{verdict.tier}", role=Role.COUNTY, code=state.county_code),
        reason=f"{verdict.tier} duplicate check: {verdict.reason_en}",
        change_id=change.change_id,
        duplicate_check=CheckOutcome.PASSED if verdict.verdict is VerdictKind.UNIQUE else CheckOutcome.FAILED,
        identity_comparison=identity,
    )

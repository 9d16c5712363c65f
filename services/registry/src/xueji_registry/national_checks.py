"""The checks a change waits for after the county approved it (R10 key information, R04 J -> G): the registry asks
dedupe (which asks the national tier: duplicate check and population-register comparison) and records the answer.

The question goes out in the same commit as the approval that opened the wait, derived by comparing the record
before and after, so no path can approve a change without asking. Its correlation id is derived from the student
and the change, so the answer finds the change it is for.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from xueji_contracts.auth import OperatorClaims, Role
from xueji_contracts.envelope import envelop
from xueji_contracts.messages.dedupe import CheckPurpose, CheckRequested, RegisterOutcome, VerdictGiven, VerdictKind
from xueji_contracts.topics import DEDUPE_CHECK
from xueji_kit.store import Outgoing
from xueji_registry.domain import ChangeKind, RecordNationalChecks, StudentStatus
from xueji_registry.domain.event_base import CheckOutcome
from xueji_registry.domain.numbers import formal_number
from xueji_registry.domain.state import ChangePhase, PendingChange

NAMESPACE = uuid.UUID("6c1d3e0a-7b0f-4a55-9a57-5f1c9d2b8e41")
PURPOSE = {
    ChangeKind.KEY_INFO: CheckPurpose.KEY_INFO_CHANGE,
    ChangeKind.FORMAL_NUMBER: CheckPurpose.G_NUMBER_ISSUANCE,
    ChangeKind.REAPPLY_FORMAL_NUMBER: CheckPurpose.G_NUMBER_ISSUANCE,  # R05: the re-applied G number is checked too
}


def correlation_of(student_id: str, change_id: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"{student_id}/{change_id}")


def _waiting(state: StudentStatus | None) -> dict[str, PendingChange]:
    if state is None:
        return {}
    return {p.change_id: p for p in state.pending if p.phase is ChangePhase.AWAITING_NATIONAL_CHECKS}


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
    )


def check_requests(province: str, before: StudentStatus | None, after: StudentStatus) -> list[Outgoing]:
    """One question per change that has just started waiting for the national checks."""
    started = {k: v for k, v in _waiting(after).items() if k not in _waiting(before) and v.kind in PURPOSE}
    outgoing = []
    for change_id, change in started.items():
        correlation = correlation_of(after.student_id, change_id)
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


def answer_for(state: StudentStatus, correlation_id: uuid.UUID, verdict: VerdictGiven) -> RecordNationalChecks | None:
    """The answer as the command that records it on the change it is for; None when no change waits for it."""
    change = next(
        (c for c in _waiting(state).values() if correlation_of(state.student_id, c.change_id) == correlation_id), None
    )
    if change is None:
        return None
    register = verdict.population_register
    return RecordNationalChecks(
        operator=OperatorClaims(sub=f"dedupe-{verdict.tier}", role=Role.COUNTY, code=state.county_code),
        reason=f"{verdict.tier} duplicate check: {verdict.reason_en}",
        change_id=change.change_id,
        duplicate_check=CheckOutcome.PASSED if verdict.verdict is VerdictKind.UNIQUE else CheckOutcome.FAILED,
        identity_comparison=CheckOutcome.NOT_RUN if register is None else REGISTER.get(register, CheckOutcome.FAILED),
    )

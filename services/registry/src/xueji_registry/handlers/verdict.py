"""dedupe.verdict.v1 -> the pending enrollment completes: created (unique), pending review (possible) or refused."""

from __future__ import annotations

from datetime import date

import structlog
from faststream import Context

from xueji_contracts.auth import OperatorClaims
from xueji_contracts.envelope import Envelope, derive_id
from xueji_contracts.messages.dedupe import CheckPurpose, VerdictGiven, VerdictKind
from xueji_kit.runtime import ServiceRuntime
from xueji_registry import formal_numbers, records
from xueji_registry.allocation import Sequences
from xueji_registry.domain import DuplicateCheck, DuplicateOutcome, EnrollStudent, RegistryError
from xueji_registry.domain.errors import DuplicateStatus
from xueji_registry.enrollment import EnrollmentRequest, pending_stream, record_refusal, student_of
from xueji_registry.national_checks import answer_for
from xueji_registry.supplementary import request_supplementary

log = structlog.get_logger("registry.verdict")
OUTCOMES = {
    VerdictKind.UNIQUE: DuplicateOutcome.CLEAR,
    VerdictKind.DUPLICATE: DuplicateOutcome.DUPLICATE,
    VerdictKind.POSSIBLE_DUPLICATE: DuplicateOutcome.POSSIBLE,
}


def as_check(verdict: VerdictGiven) -> DuplicateCheck:
    """dedupe's answer in the domain's terms: clear, or the existing record a duplicate or possible one points at."""
    outcome = OUTCOMES[verdict.verdict]
    existing = None if outcome is DuplicateOutcome.CLEAR else (verdict.existing_student_id or "unknown")
    return DuplicateCheck(outcome=outcome, existing_student_id=existing)


async def on_verdict(
    message: Envelope[VerdictGiven],
    runtime: ServiceRuntime = Context("runtime"),
    sequences: Sequences = Context("sequences"),
) -> None:
    if message.payload.purpose is not CheckPurpose.CREATION:
        await _record_national_checks(runtime, message)
        return
    student_id = student_of(message.correlation_id)
    commits = await runtime.events.load(pending_stream(student_id))
    if not commits:
        log.warning("verdict_without_request", student_id=student_id)
        return
    first = commits[0]["events"][0]
    body = EnrollmentRequest.model_validate(first["request"])
    check = as_check(message.payload)
    commit_id = str(derive_id(message.message_id, "enroll"))
    if check.outcome is DuplicateOutcome.DUPLICATE:
        existing = check.existing_student_id
        refusal = {"rule": "R01", "reason": "this person already has a status record", "existing_student_id": existing}
        await record_refusal(runtime, student_id, commit_id, refusal)
        return
    county = body.school_code[:6]
    counter = await sequences.next_unique(f"{'L' if body.id_number else 'J'}:{county}", student_id)  # R03: unique
    command = EnrollStudent(
        operator=OperatorClaims.model_validate(first["by"]),
        reason=first["reason"],
        student_id=student_id,
        school_code=body.school_code,
        segment=body.the_segment(),
        grade=body.grade,
        identity=body.identity(),
        basic=body.basic,
        admitted_on=body.admitted_on or date.fromisoformat(first["at"][:10]),
        number_counter=counter,
        duplicate_check=check,
    )
    extra = request_supplementary(runtime, body.school_year, message.correlation_id)
    try:
        await records.execute(
            runtime,
            student_id,
            commit_id,
            command,
            correlation_id=message.correlation_id,
            extra=extra,
        )
    except RegistryError as exc:
        existing = exc.existing if isinstance(exc, DuplicateStatus) else None
        refusal = {"rule": exc.rule, "reason": exc.reason, "field": exc.field, "existing_student_id": existing}
        await record_refusal(runtime, student_id, commit_id, refusal)


async def _record_national_checks(runtime: ServiceRuntime, message: Envelope[VerdictGiven]) -> None:
    """R03 batch, R10 / R04: the answer for the spring G-number batch, or on a change waiting for it; a change no
    longer waiting (already answered) is left."""
    if await formal_numbers.on_answer(runtime, message.correlation_id, message.payload):
        return
    state = await records.load(runtime, message.payload.student_id)
    command = None if state is None else answer_for(state, message.correlation_id, message.payload)
    if command is None:
        log.info("national_answer_without_waiting_change", student_id=message.payload.student_id)
        return
    commit_id = str(derive_id(message.message_id, "national-checks"))
    await records.execute(
        runtime, message.payload.student_id, commit_id, command, correlation_id=message.correlation_id
    )

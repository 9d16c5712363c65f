"""dedupe.review.v1 -> the county's decision on a possible duplicate confirms or refuses the pending record, or
decides the duplicate check of the key-information or G-number change waiting for that case (R14, R10)."""

from __future__ import annotations

from typing import Any

import structlog
from faststream import Context

from xueji_contracts.auth import OperatorClaims, Role
from xueji_contracts.envelope import derive_id
from xueji_contracts.messages.dedupe_review import ReviewCaseDecided, ReviewDecision
from xueji_registry.domain import DecideDuplicateReview, ReviewChange, StudentStatus
from xueji_registry.domain.creation import CREATION_REVIEW
from xueji_registry.domain.enrollment_request import decide_same_person
from xueji_registry.domain.periods import school_year_of
from xueji_registry.domain.record_changes import ConfirmCreation
from xueji_registry.domain.record_events import ClosureCause
from xueji_registry.enrollment.requests import record_refusal, stated_school_year, why_no_record
from xueji_registry.numbers.supplementary import request_supplementary
from xueji_registry.service import RegistryService

DECIDED = {"ReviewCaseDecided", "ReviewDecided"}
log = structlog.get_logger("registry.review")


async def on_review(message: dict[str, Any], service: RegistryService = Context("registry")) -> None:
    if message.get("type") not in DECIDED:
        return  # case opened: nothing to do until the county decides
    decided = ReviewCaseDecided.model_validate(message["payload"])
    state = await service.load(decided.student_id)
    if state is None:
        # Never dropped: a record still to come is retried, then dead-lettered; one never requested here, at once.
        if (problem := await why_no_record(service, decided.student_id, decided.case_id)) is not None:
            raise problem
        log.info("review_decision_on_a_refused_request", student_id=decided.student_id, case_id=decided.case_id)
        return
    if await _decide_waiting_change(service, state, decided, message["message_id"]):
        return
    pending = state.pending_change(CREATION_REVIEW)
    if pending is None or not isinstance(pending.details, ConfirmCreation):
        # Already settled (a redelivery), or a case no change waits for any more: the record's own later change under
        # that id (a basic-information one) is not the county's to approve by this decision.
        log.info("review_decision_without_a_record_waiting", student_id=decided.student_id, case_id=decided.case_id)
        if (
            decided.decision is ReviewDecision.SAME_PERSON
            and state.closure is not None
            and state.closure.cause is ClosureCause.DUPLICATE_REFUSED
        ):
            await _request_refused(service, decided, None, message["message_id"])  # a crash came between the two
        return
    command = ReviewChange(
        operator=OperatorClaims(sub=decided.decided_by, role=Role.COUNTY, code=decided.county_code),
        reason=f"county review of a possible duplicate: {decided.decision.value}",
        change_id=pending.change_id,
        approve=decided.decision is ReviewDecision.DIFFERENT_PERSON,
    )
    # R07: a record released is numbered in the school year its request names (yy: the freshman class it registers
    # in), as intake numbers a record that needed no review, not the admission date's (a July admission to the coming
    # year's class). A record closed as the same person is numbered in none.
    extra = request_supplementary(service, await _registers_for(service, state), None) if command.approve else None
    commit_id = str(derive_id(message["message_id"], "review"))
    await service.execute(decided.student_id, commit_id, command, extra=extra)
    if not command.approve:
        await _request_refused(service, decided, pending.details.possible_duplicate_of, message["message_id"])


async def _registers_for(service: RegistryService, state: StudentStatus) -> int:
    """R07: the school year of the freshman class the record's request registers it in, carried by the record from
    its creation. A record created before it was kept has it read from the request's pending stream (always found: a
    record waiting for the county's review was created from a request stored here); were none found, the admission
    date's school year stands in for it, said at warning."""
    if state.class_year is not None:
        return state.class_year
    if (year := await stated_school_year(service, state.student_id)) is not None:
        return year
    log.warning("r07_year_from_admission_date", student_id=state.student_id, admitted_on=str(state.admitted_on))
    return school_year_of(state.admitted_on)


async def _request_refused(
    service: RegistryService, decided: ReviewCaseDecided, existing: str | None, message_id: Any
) -> None:
    """R14: the record closed as the same person, its enrollment request ends refused too, so a class sheet's row
    uploaded again as it was is told so, and a corrected one is asked anew (`enrollment/attempts.py`)."""
    refusal = decide_same_person(existing, decided.case_id, decided.decided_at)
    await record_refusal(service, decided.student_id, str(derive_id(message_id, "request-refused")), refusal)


async def _decide_waiting_change(
    service: RegistryService, state: StudentStatus, decided: ReviewCaseDecided, message_id: Any
) -> bool:
    """The change whose duplicate check waits for this case (R14): decided by it. False when none waits for it (a
    creation's case, a redelivery, a change since settled)."""
    waiting = [p for p in state.pending if p.review is not None and not p.review.cleared]
    change = next((p for p in waiting if p.review is not None and p.review.case_id == decided.case_id), None)
    if change is None:
        return False
    command = DecideDuplicateReview(
        operator=OperatorClaims(sub=decided.decided_by, role=Role.COUNTY, code=decided.county_code),
        reason=f"county review of a possible duplicate: {decided.decision.value}",
        change_id=change.change_id,
        review_case_id=decided.case_id,
        same_person=decided.decision is ReviewDecision.SAME_PERSON,
    )
    await service.execute(decided.student_id, str(derive_id(message_id, "review")), command)
    return True

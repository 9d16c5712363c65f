"""The two-phase change: the school requests, the verifier approves or rejects, the national checks (if any) decide.

R14: a suspected duplicate found by a change's duplicate check is never a refusal by itself: the change keeps waiting
for the county's review of the case (`refer`). The county's "same person" fails the duplicate check (the change is
rejected); "different person" passes it, except that a change the national tier must still check (a G student's key
information, R10; a G number, R03/R04) is first asked again there (`DuplicateReviewCleared`), naming the case.
"""

from __future__ import annotations

from datetime import datetime

from xueji_registry.domain import preconditions
from xueji_registry.domain.change_events import (
    ChangeApproved,
    ChangeRejected,
    ChangeRequested,
    DuplicateCheckReferred,
    DuplicateReviewCleared,
    NationalChecksRecorded,
)
from xueji_registry.domain.change_kinds import ChangeKind
from xueji_registry.domain.commands import (
    DecideDuplicateReview,
    RecordNationalChecks,
    ReferDuplicateCheck,
    RequestChange,
    ReviewChange,
)
from xueji_registry.domain.effects import effects
from xueji_registry.domain.errors import IllegalTransition, Refused, UnknownRecord
from xueji_registry.domain.event_base import CheckOutcome, Recorded, recorded
from xueji_registry.domain.events import RegistryEvent
from xueji_registry.domain.numbers import NumberKind, kind_of
from xueji_registry.domain.record_changes import ChangeDetails
from xueji_registry.domain.record_events import ClosureCause, RecordClosed
from xueji_registry.domain.rules import RegistryRules
from xueji_registry.domain.state import ChangePhase, PendingChange, StudentStatus
from xueji_registry.domain.status_changes import Graduate
from xueji_registry.domain.transitions import TRANSITIONS, changes_status, verifier_of

# Two identity changes in flight could each pass the national checks against a different ID number.
_IDENTITY = frozenset({ChangeKind.KEY_INFO, ChangeKind.FORMAL_NUMBER, ChangeKind.REAPPLY_FORMAL_NUMBER})


def _conflict(state: StudentStatus, kind: ChangeKind) -> PendingChange | None:
    for pending in state.pending:
        same_group = (changes_status(kind) and changes_status(pending.kind)) or {kind, pending.kind} <= _IDENTITY
        if pending.kind is kind or same_group:
            return pending
    return None


def request(command: RequestChange, state: StudentStatus, now: datetime, rules: RegistryRules) -> list[RegistryEvent]:
    details = command.details
    rule = TRANSITIONS[details.kind]
    if details.kind is ChangeKind.CONFIRM_CREATION:
        raise Refused("R14", "a creation is confirmed by reviewing the enrollment's pending change", field="details")
    if (pending := _conflict(state, details.kind)) is not None:
        detail = f"the {pending.kind.value} change {pending.change_id} is still pending"
        raise IllegalTransition(rule.rule, rule.action, state.state, detail=detail)
    preconditions.check(details, state, now, command.evidence, rules)
    verifier = verifier_of(details.kind, state.segment)
    r12 = recorded(command, state.student_id, now)
    if verifier is None:
        return effects(_drawn(details, command.certificate_sequence), state, None, r12, rules)
    return [ChangeRequested(**r12, change_id=f"chg-{state.version + 1}", details=details, verifier=verifier)]


def _pending(state: StudentStatus, change_id: str, phase: ChangePhase) -> PendingChange:
    pending = state.pending_change(change_id)
    if pending is None:
        raise UnknownRecord("R12", f"no pending change {change_id} on this record", field="change_id")
    if pending.phase is not phase:
        raise Refused(TRANSITIONS[pending.kind].rule, f"change {change_id} is {pending.phase.value}", field="change_id")
    return pending


def review(command: ReviewChange, state: StudentStatus, now: datetime, rules: RegistryRules) -> list[RegistryEvent]:
    pending = _pending(state, command.change_id, ChangePhase.AWAITING_VERIFICATION)
    r12 = recorded(command, state.student_id, now)
    if not command.approve:
        rejected: list[RegistryEvent] = [ChangeRejected(**r12, change_id=pending.change_id, kind=pending.kind)]
        if pending.kind is ChangeKind.CONFIRM_CREATION:
            closed = RecordClosed(
                **r12,
                change_id=pending.change_id,
                cause=ClosureCause.DUPLICATE_REFUSED,
                status_number=state.status_number,
            )
            rejected.append(closed)
        return rejected
    # Re-checked as of the request: the bureau's pace must not turn an allowed request into a refused one.
    preconditions.check(pending.details, state, pending.requested_at, pending.evidence, rules)
    national = TRANSITIONS[pending.kind].national_checks
    approved = ChangeApproved(**r12, change_id=pending.change_id, kind=pending.kind, awaiting_national_checks=national)
    if national:
        return [approved]
    return [approved, *_take_effect(pending, state, r12, rules, command.certificate_sequence)]


def national_checks(
    command: RecordNationalChecks, state: StudentStatus, now: datetime, rules: RegistryRules
) -> list[RegistryEvent]:
    pending = _pending(state, command.change_id, ChangePhase.AWAITING_NATIONAL_CHECKS)
    r12 = recorded(command, state.student_id, now)
    checks = NationalChecksRecorded(
        **r12,
        change_id=pending.change_id,
        duplicate_check=command.duplicate_check,
        identity_comparison=command.identity_comparison,
    )
    compared = national_tier_required(pending, state)
    required = [("national duplicate check", command.duplicate_check)]
    if compared or command.identity_comparison is not CheckOutcome.NOT_RUN:
        required.append(("identity comparison", command.identity_comparison))
    failed = [name for name, outcome in required if outcome is not CheckOutcome.PASSED]
    if failed:
        rule = TRANSITIONS[pending.kind].rule
        why = f"{rule}: not applied, the {' and the '.join(failed)} did not pass"
        because = r12.copy()
        because["reason"] = why
        return [checks, ChangeRejected(**because, change_id=pending.change_id, kind=pending.kind)]
    return [checks, *_take_effect(pending, state, r12, rules, None)]  # a graduation has no national checks


def national_tier_required(pending: PendingChange, state: StudentStatus) -> bool:
    """R10 compares a G student's identity with the population register (and R04 the new G number's): the national
    tier's work. An L or J student's change still needs the duplicate check (R14), but no formal identity to compare."""
    return pending.kind is ChangeKind.FORMAL_NUMBER or kind_of(state.status_number) is NumberKind.FORMAL


def refer(command: ReferDuplicateCheck, state: StudentStatus, now: datetime) -> list[RegistryEvent]:
    """R14: a suspected duplicate goes to the county's review; the change keeps waiting, never refused without it."""
    pending = _pending(state, command.change_id, ChangePhase.AWAITING_NATIONAL_CHECKS)
    r12 = recorded(command, state.student_id, now)
    referred = DuplicateCheckReferred(
        **r12,
        change_id=pending.change_id,
        review_case_id=command.review_case_id,
        tier=command.tier,
        identity_comparison=command.identity_comparison,
    )
    return [referred]


def decide_review(
    command: DecideDuplicateReview, state: StudentStatus, now: datetime, rules: RegistryRules
) -> list[RegistryEvent]:
    """The county's decision on the case the change waits for (R14): the same person fails the duplicate check;
    a different person passes it, or first sends the change on to the national tier when it still needs it."""
    pending = _pending(state, command.change_id, ChangePhase.AWAITING_NATIONAL_CHECKS)
    review = pending.review
    if review is None or review.cleared or review.case_id != command.review_case_id:
        rule = TRANSITIONS[pending.kind].rule
        raise Refused(rule, f"change {pending.change_id} waits for no review case {command.review_case_id}")
    if not command.same_person and review.tier == "province" and national_tier_required(pending, state):
        r12 = recorded(command, state.student_id, now)
        return [DuplicateReviewCleared(**r12, change_id=pending.change_id, review_case_id=review.case_id)]
    outcome = CheckOutcome.FAILED if command.same_person else CheckOutcome.PASSED
    checks = RecordNationalChecks(
        operator=command.operator,
        reason=command.reason,
        evidence=command.evidence,
        change_id=pending.change_id,
        duplicate_check=outcome,
        identity_comparison=review.identity_comparison,
    )
    return national_checks(checks, state, now, rules)


def _take_effect(
    pending: PendingChange, state: StudentStatus, r12: Recorded, rules: RegistryRules, certificate: int | None
) -> list[RegistryEvent]:
    """The change takes effect as its last approver recorded it, for the request's reason, with all the evidence."""
    effect = r12.copy()
    effect["reason"] = pending.reason
    effect["evidence"] = (*pending.evidence, *r12["evidence"])
    return effects(_drawn(pending.details, certificate), state, pending.change_id, effect, rules)


def _drawn(details: ChangeDetails, certificate: int | None) -> ChangeDetails:
    """R08: a graduation takes effect with the certificate sequence the registry drew for the command taking it
    (`certificate`), never one its request carried."""
    if isinstance(details, Graduate):
        return details.model_copy(update={"certificate_sequence": certificate})
    return details

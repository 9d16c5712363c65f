"""R50: may this operator give this command? School operates, county verifies, Ministry approves deletions."""

from __future__ import annotations

from dataclasses import dataclass

from xueji_contracts.auth import OperatorClaims, Role
from xueji_registry.domain import commands as c
from xueji_registry.domain.record_changes import ReissueCertificate
from xueji_registry.domain.rule_exceptions import AUTHORITY
from xueji_registry.domain.state import StudentStatus
from xueji_registry.domain.transitions import TRANSITIONS, verifier_of


@dataclass(frozen=True)
class Authorization:
    allowed: bool
    reason: str


# A G number comes from the spring batch a bureau runs; the school never mints one (R03).
_BATCH = frozenset({Role.COUNTY, Role.CITY, Role.PROVINCE})
_TRANSFER = frozenset({Role.SCHOOL, Role.COUNTY})
_ENROLLING = frozenset({Role.SCHOOL})  # the school operates (R50): a bureau verifies what its schools enroll


def _who(command: c.Command, state: StudentStatus | None) -> tuple[frozenset[Role], str]:
    """The roles that may give `command`, and what that command is, in words."""
    match command:
        case c.EnrollStudent():
            return _ENROLLING, "enrollment"
        case c.RegisterFreshman():
            return frozenset({Role.SCHOOL}), "a freshman registration (R07)"
        case c.AssignSupplementaryNumber():
            return frozenset({Role.SCHOOL}), "a supplementary number"
        case c.CompleteStatusFile():
            return frozenset({Role.SCHOOL}), "the status file"
        case c.RecordAbsence() | c.EndAbsence():
            return frozenset({Role.SCHOOL}), "an absence (R45)"
        case c.RecordFileHandover():
            # 002 III.13: the bureau in charge of the school's registration hands the file over, not the school.
            return frozenset({Role.COUNTY}), "a migrant dropout's file hand-over (R45)"
        case c.RequestChange(details=details):
            rule = TRANSITIONS[details.kind]
            return frozenset({rule.initiator}), f"a request to {rule.action}"
        case c.ReviewChange(change_id=change_id):
            pending = state.pending_change(change_id) if state else None
            if pending is None or state is None:
                return frozenset({Role.COUNTY}), "a review"
            verifier = verifier_of(pending.kind, state.segment) or Role.COUNTY
            return frozenset({verifier}), f"the decision on '{TRANSITIONS[pending.kind].action}'"
        case c.RecordNationalChecks():
            return frozenset({Role.COUNTY}), "the national check results"
        case c.ReferDuplicateCheck() | c.DecideDuplicateReview():
            return frozenset({Role.COUNTY}), "the review of a suspected duplicate (R14)"
        case c.IssueFormalNumber():
            return _BATCH, "the G number batch"
        case c.RecordException(rule=rule):
            # RULES "Exceptions": the named authority only; a school can never grant one.
            authority = AUTHORITY.get(rule, Role.COUNTY)
            return frozenset({authority}), f"an exception to {rule} (recorded by the bureau, never by a school)"
        case c.RecordTransferIn() | c.RecordTransferOut():
            return _TRANSFER, "a transfer outcome"
        case c.RecordRollback():
            return frozenset({Role.COUNTY}), "a rollback of a mistaken progression (R33)"
    raise TypeError(f"unknown command {command!r}")  # pragma: no cover - the union is exhaustive


def _issuing_school(state: StudentStatus, number: str | None) -> str | None:
    """R08: the school that issued certificate `number` on this record (002 III.15: the graduation school reissues
    it, its competent bureau audits and prints); None when the record holds no such certificate."""
    certificate = state.certificate(number) if number else None
    return certificate.school_code if certificate is not None else None


def _targets(command: c.Command, state: StudentStatus | None) -> tuple[str, ...]:
    """The schools one of which the operator's jurisdiction must cover."""
    if isinstance(command, c.EnrollStudent | c.RegisterFreshman):
        return (command.school_code,)
    if isinstance(command, c.RecordTransferIn):
        return (command.receiving_school,)
    if state is None:
        return ()
    issuer: str | None = None
    match command:
        case c.RequestChange(details=ReissueCertificate(certificate_number=number)):
            # The school holding the record now or the graduation school asks for the reissue.
            issuer = _issuing_school(state, number)
            return (state.school_code, issuer) if issuer and issuer != state.school_code else (state.school_code,)
        case c.ReviewChange(change_id=change_id):
            pending = state.pending_change(change_id)
            if pending is not None and isinstance(pending.details, ReissueCertificate):
                issuer = _issuing_school(state, pending.details.certificate_number)
        case c.RecordException(rule="R08", certificate_number=number):
            issuer = _issuing_school(state, number)
    return (issuer or state.school_code,)


def may_enroll(claims: OperatorClaims) -> Authorization:
    """Whether this operator's role enrolls at all (R50), asked before a request is stored or dedupe is asked: the
    enrollment's own command is authorized only once dedupe has answered, too late to refuse a bureau's upload."""
    if claims.role in _ENROLLING:
        return Authorization(True, f"{claims.role.value} {claims.code} may enroll")
    return Authorization(False, f"R50: enrollment is for a school operator, not {claims.role.value}")


def authorize(claims: OperatorClaims, command: c.Command, state: StudentStatus | None) -> Authorization:
    """Allowed, or the reason (naming R50) why this operator may not give this command on this record."""
    roles, what = _who(command, state)
    if claims.role not in roles:
        needed = " or ".join(sorted(role.value for role in roles))
        return Authorization(False, f"R50: {what} is for a {needed} operator, not {claims.role.value}")
    targets = _targets(command, state)
    if not targets:
        return Authorization(False, "R50: there is no record to act on")
    target = next((t for t in targets if claims.covers(t)), None)
    if target is None:
        return Authorization(False, f"R50: school {' or '.join(targets)} is outside the jurisdiction {claims.code}")
    return Authorization(True, f"{claims.role.value} {claims.code} may give {what} for school {target}")

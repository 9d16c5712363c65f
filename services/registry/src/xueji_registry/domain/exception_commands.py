"""RULES "Exceptions" (R08, R40): the authority records an exception as its own event, checked here."""

from __future__ import annotations

from datetime import datetime

from xueji_contracts.messages.status import StatusState
from xueji_registry.domain.commands import RecordException
from xueji_registry.domain.errors import Refused
from xueji_registry.domain.event_base import recorded
from xueji_registry.domain.events import RegistryEvent
from xueji_registry.domain.rule_exceptions import ABSOLUTE, RULE_OF, ExceptionClause, ExceptionRecorded, available
from xueji_registry.domain.state import CertificateKind, StudentStatus

# The record must be where the excepted change could apply: a suspension of an enrolled student. A reissue (R08)
# applies in any state in which the record holds the certificate, checked below.
_STATES = {"R40": frozenset({StatusState.ENROLLED}), "R08": frozenset(StatusState)}


def _clause(command: RecordException) -> ExceptionClause:
    if command.clause in ABSOLUTE:
        rule, limit = ABSOLUTE[command.clause]
        raise Refused(rule, f"{limit}: this part of {rule} is absolute and takes no exception", field="clause")
    clauses = [c for c, rule in RULE_OF.items() if rule == command.rule]
    if not clauses:
        raise Refused(command.rule, f"{command.rule} has no 'generally' default the registry excepts", field="rule")
    try:
        clause = ExceptionClause(command.clause)
    except ValueError:
        clause = None
    if clause not in clauses:
        names = ", ".join(c.value for c in clauses)
        raise Refused(command.rule, f"{command.rule} takes an exception for {names} only", field="clause")
    assert clause is not None
    return clause


def record(command: RecordException, state: StudentStatus, now: datetime) -> list[RegistryEvent]:
    clause = _clause(command)
    rule = command.rule
    reason = command.reason.strip()
    if not reason:  # RULES "Exceptions": the authority's written reason, which the semester audit lists (R51)
        raise Refused(rule, "an exception gives its written reason", field="reason")
    if state.state not in _STATES[rule]:
        raise Refused(rule, f"no exception applies to a record in state {state.state.value}")
    number = command.certificate_number
    if rule == "R08":
        certificate = state.certificate(number) if number else None
        if certificate is None or certificate.kind is not CertificateKind.GRADUATION:
            raise Refused("R08", f"no graduation certificate {number} on this record", field="certificate_number")
        if certificate.reissues < 1:
            raise Refused("R08", "the first reissue needs no exception", field="clause")
    elif number is not None:
        raise Refused(rule, "a certificate number belongs to an R08 exception only", field="certificate_number")
    if (unused := available(state.exceptions, clause, number)) is not None:
        raise Refused(rule, f"exception {unused.exception_id} for {clause.value} is recorded and not yet used")
    r12 = recorded(command, state.student_id, now)
    r12["reason"] = reason
    return [
        ExceptionRecorded(
            **r12,
            exception_id=f"exc-{state.student_id}-{state.version + 1}",
            rule=rule,
            clause=clause,
            certificate_number=number,
        )
    ]

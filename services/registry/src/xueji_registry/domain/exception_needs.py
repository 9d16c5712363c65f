"""Which exceptions a requested change needs (R08, R40): the defaults a "generally" rule sets, as data the
preconditions refuse by and the effects record the use of."""

from __future__ import annotations

from dataclasses import dataclass

from xueji_registry.domain.periods import Term
from xueji_registry.domain.record_changes import ChangeDetails, ReissueCertificate
from xueji_registry.domain.rule_exceptions import AUTHORITY_WORDS, RULE_OF, ExceptionClause, GrantedException, available
from xueji_registry.domain.rules import RegistryRules
from xueji_registry.domain.state import StudentStatus
from xueji_registry.domain.status_changes import Suspend


@dataclass(frozen=True)
class Need:
    clause: ExceptionClause
    default: str  # what the rule says by default, in words
    field: str | None
    certificate_number: str | None = None

    @property
    def rule(self) -> str:
        return RULE_OF[self.clause]

    def refusal(self) -> str:
        return f"{self.default} by default; only an exception recorded by {AUTHORITY_WORDS[self.rule]} allows it"


def needs(details: ChangeDetails, state: StudentStatus, rules: RegistryRules) -> list[Need]:
    found: list[Need] = []
    match details:
        case Suspend(term=term, months=months):
            if state.grade >= state.graduation_grade and term.term is Term.SECOND:
                found.append(
                    Need(
                        ExceptionClause.GRADUATION_SEMESTER,
                        "no suspension in the graduation grade's last semester",
                        "term",
                    )
                )
            if months is not None and months != rules.suspension_months:
                default = f"a suspension lasts {rules.suspension_months} months (one academic year)"
                found.append(Need(ExceptionClause.SUSPENSION_PERIOD, default, "months"))
        case ReissueCertificate(certificate_number=number):
            certificate = state.certificate(number)
            if certificate is not None and certificate.reissues >= 1:
                last = certificate.reissued_on
                default = f"certificate {number} was already reissued on {last}; a second reissue is refused"
                found.append(Need(ExceptionClause.SECOND_REISSUE, default, "certificate_number", number))
    return found


def unmet(details: ChangeDetails, state: StudentStatus, rules: RegistryRules) -> Need | None:
    """The first need no unused exception on the record covers."""
    return next((n for n in needs(details, state, rules) if _cover(state.exceptions, n) is None), None)


def used(details: ChangeDetails, state: StudentStatus, rules: RegistryRules) -> tuple[str, ...]:
    """The ids of the exceptions a change taking effect now relies on."""
    return tuple(g.exception_id for n in needs(details, state, rules) if (g := _cover(state.exceptions, n)) is not None)


def _cover(granted: tuple[GrantedException, ...], need: Need) -> GrantedException | None:
    return available(granted, need.clause, need.certificate_number)

"""Whether a requested change may happen to this record now: state, segment, evidence and the rule's limits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from xueji_contracts.calendar.deadlines import local_date
from xueji_contracts.identity import birth_date_of
from xueji_contracts.policy import SupplementaryNumberFormat
from xueji_registry.domain import exception_needs, periods
from xueji_registry.domain import status_changes as sc
from xueji_registry.domain.change_kinds import DropoutCause, SuspensionCause
from xueji_registry.domain.errors import IllegalTransition, Refused
from xueji_registry.domain.evidence import EvidenceKind, EvidenceRef, missing_evidence
from xueji_registry.domain.numbers import NumberKind, kind_of
from xueji_registry.domain.periods import Segment
from xueji_registry.domain.record_changes import (
    ChangeBasicInfo,
    ChangeDetails,
    ChangeKeyInfo,
    ChangeToFormalNumber,
    ReapplyFormalNumber,
    ReissueCertificate,
)
from xueji_registry.domain.rules import RegistryRules
from xueji_registry.domain.state import CertificateKind, StudentStatus
from xueji_registry.domain.supplementary import SchoolNumbering, certificate_number, certificate_series, numbering_of
from xueji_registry.domain.transitions import TRANSITIONS


def check(
    details: ChangeDetails, state: StudentStatus, at: datetime, evidence: Sequence[EvidenceRef], rules: RegistryRules
) -> None:
    """Refused or IllegalTransition when `details` may not apply to `state` as of `at`; None when it may."""
    rule = TRANSITIONS[details.kind]
    if state.segment not in rule.segments:
        allowed = ", ".join(sorted(s.value for s in rule.segments))
        raise Refused(rule.rule, f"{rule.action} applies to {allowed} only; this student is {state.segment.value}")
    if state.state not in rule.from_states:
        raise IllegalTransition(rule.rule, rule.action, state.state)
    if (missing := missing_evidence(evidence, rule.all_of, rule.one_of)) is not None:
        raise Refused(rule.rule, missing, field="evidence")
    _specific(details, state, local_date(at), evidence, rules)
    if (need := exception_needs.unmet(details, state, rules)) is not None:
        raise Refused(need.rule, need.refusal(), field=need.field)
    if isinstance(details, sc.Graduate) and rules.layout is not None:
        _graduating_school(details, state, rules.layout)


def _graduating_school(details: sc.Graduate, state: StudentStatus, layout: SupplementaryNumberFormat) -> None:
    """R08 in R07's layout: the certificate number carries the digits of the school the student graduates from (the
    record's), as the roster path's do. A numbering that composes another school's (another series) or that the
    layout cannot place is refused before anything; the sequence is drawn as the graduation takes effect."""
    own = certificate_series(state.segment, details.graduation_year, numbering_of(state.school_code), layout)
    if details.numbering is None:
        return
    asked = certificate_series(state.segment, details.graduation_year, details.numbering, layout)
    if asked != own:
        why = (
            f"numbering composes the series {asked}, not {own} of the school {state.school_code} the student "
            "graduates from; leave numbering out to have the school's"
        )
        raise Refused("R08", why, field="numbering")


def _needs(rule: str, evidence: Sequence[EvidenceRef], kind: EvidenceKind, why: str) -> None:
    if (missing := missing_evidence(evidence, (kind,))) is not None:
        raise Refused(rule, f"{missing} ({why})", field="evidence")


def _suspension_term(term: periods.SchoolTerm, state: StudentStatus, today: date) -> None:
    """R40's graduation semester is the one the day falls in, not the term the school names: only the school's
    county bureau may except it (RULES "Exceptions"). A term already over is refused; one still to come is let
    through, except in the graduation grade's last semester, where the request must name that semester."""
    now = periods.term_of(today)
    if (term.school_year, term.term) < (now.school_year, now.term):
        reason = f"the request names {term.describe()}, already over: {today} falls in {now.describe()}"
        raise Refused("R40", reason, field="term")
    if state.grade >= state.graduation_grade and now.term is periods.Term.SECOND and term != now:
        reason = f"{today} falls in {now.describe()}, the graduation grade's last semester; the request names"
        raise Refused("R40", f"{reason} {term.describe()}", field="term")


def _specific(
    details: ChangeDetails, state: StudentStatus, today: date, evidence: Sequence[EvidenceRef], rules: RegistryRules
) -> None:
    suspension = state.suspension
    match details:
        case sc.Suspend(cause=cause, term=term):
            _suspension_term(term, state, today)
            if cause is SuspensionCause.ILLNESS:
                _needs("R40", evidence, EvidenceKind.MEDICAL_CERTIFICATE, "illness: county-level or higher")
            else:
                _needs("R40", evidence, EvidenceKind.SUPPORTING_DOCUMENT, "the cause's supporting materials")
        case sc.ExtendSuspension(months=months) if suspension is not None:
            # Absolute (002 III.8): no authority may except these, so no exception is looked for.
            if suspension.extensions >= rules.max_extensions:
                raise Refused(
                    "R40",
                    f"the suspension was already extended once (to {suspension.expires_on}); a second extension is"
                    " refused, and this limit is absolute: no exception",
                )
            if months is not None and months > rules.extension_months:
                raise Refused(
                    "R40",
                    f"an extension lasts at most {rules.extension_months} months; this limit is absolute: no exception",
                    field="months",
                )
        case sc.Resume(grade=grade, term=term) if suspension is not None:
            cohort = periods.cohort_grade(suspension.grade, suspension.term, term, state.graduation_grade)
            if grade not in (suspension.grade, cohort):
                raise Refused("R41", f"return to grade {suspension.grade} or {cohort}, not {grade}", field="grade")
            if suspension.cause is SuspensionCause.ILLNESS:
                _needs("R41", evidence, EvidenceKind.RECOVERY_CERTIFICATE, "suspended for illness")
        case sc.DropOut(cause=DropoutCause.INCURABLE_ILLNESS):
            if suspension is None or periods.months_after(suspension.since, periods.ILLNESS_DROPOUT_MONTHS) > today:
                raise Refused("R43", "dropout for illness follows two years of suspension", field="cause")
        case sc.AbsenceDropout(
            absent_since=since, contact_attempts=attempts, migrant_household_county=household_county
        ):
            if today - since < timedelta(days=periods.ABSENCE_DAYS):
                raise Refused("R45", f"absent since {since}: not yet 2 weeks", field="absent_since")
            if attempts < periods.CONTACT_ATTEMPTS:
                raise Refused("R45", "the school must have contacted the family repeatedly", field="contact_attempts")
            if household_county is not None and state.segment not in periods.COMPULSORY:
                raise Refused(
                    "R45",
                    "the file hand-over to the household-register county is for compulsory education only",
                    field="migrant_household_county",
                )
        case sc.ResumeAfterDropout() if state.dropout is not None and not state.dropout.status_retained:
            if today > periods.months_after(state.dropout.on, periods.DROPOUT_RETURN_MONTHS):
                raise Refused("R43", f"dropped out on {state.dropout.on}: resumption only within 1 year")
        case sc.Death(date_of_death=died) if died > today:
            raise Refused("R44", "the date of death is in the future", field="date_of_death")
        case sc.Graduate() | sc.Complete() if state.grade != state.graduation_grade:
            raise Refused("R46", f"grade {state.grade} is not the graduation grade {state.graduation_grade}")
        case sc.Graduate() if state.segment is not Segment.PRIMARY:
            _needs("R46", evidence, EvidenceKind.GRADUATION_ROSTER, "approved by the county bureau")
        case sc.Leave(study_to=until) if until > today:
            raise Refused("R46", "the study period ends in the future", field="study_to")
        case ReissueCertificate(certificate_number=number):
            certificate = state.certificate(number)
            if certificate is None or certificate.kind is not CertificateKind.GRADUATION:
                raise Refused("R08", f"no graduation certificate {number} on this record", field="certificate_number")
        case ChangeBasicInfo(patch=patch):
            _basic_info(state, patch.changed())
        case ChangeKeyInfo(name=name, id_number=id_number):
            if name in (None, state.identity.name) and id_number in (None, state.identity.id_number):
                raise Refused("R10", "the key information is already as requested")
        case ReapplyFormalNumber(number=number):
            if kind_of(state.status_number) is not NumberKind.FORMAL:
                raise Refused("R05", "only a G number is changed by re-application; an L number waits for the batch")
            new = number or (f"G{state.identity.id_number}" if state.identity.id_number else None)
            if new is None:
                raise Refused("R05", "name the new G number: the record has no ID number", field="number")
            if new == state.status_number:
                raise Refused("R05", "the G number is already as requested", field="number")
        case ChangeToFormalNumber() if kind_of(state.status_number) is not NumberKind.NO_ID:
            raise Refused("R04", f"only a J number changes to G by application; this is {state.status_number[0]}")


def _basic_info(state: StudentStatus, changed: dict[str, object]) -> None:
    current = {**state.identity.model_dump(), **state.basic.model_dump()}
    if all(current.get(field) == value for field, value in changed.items()):
        raise Refused("R11", "the basic information is already as requested", field="patch")
    id_number = state.identity.id_number
    if "birth_date" in changed and id_number is not None and changed["birth_date"] != birth_date_of(id_number):
        raise Refused("R11", "the birth date must match the ID number (change that by R10)", field="birth_date")


class CertificateUndrawn(Exception):
    """R08: a graduation takes effect, but the command carries no certificate sequence drawn from its series (segment,
    `details.graduation_year`, `details.numbering`). Raised once every other check passed, so a refused graduation
    draws none; the service layer draws it (`numbers.certificates.execute_drawing`) and decides the command again.
    Not a RegistryError: a request to the caller, never an answer."""

    def __init__(self, details: sc.Graduate, segment: Segment, numbering: SchoolNumbering) -> None:
        super().__init__(f"R08: a {segment.value} certificate of {details.graduation_year} to draw")
        self.details = details
        self.segment = segment
        self.numbering = numbering  # the graduating school's place in the layout


def graduation_certificate(details: sc.Graduate, state: StudentStatus, rules: RegistryRules) -> str | None:
    """R08: the certificate's number in the province's layout, with the sequence the registry drew (never a
    caller's); None where the province's policy sets no layout (the certificate is issued without a number of this
    system's making). CertificateUndrawn while the sequence is still to draw."""
    if rules.layout is None:
        return None
    # The record's school, never the request's numbering: one stored before it was checked may compose another's.
    school = numbering_of(state.school_code)
    if details.certificate_sequence is None:
        raise CertificateUndrawn(details, state.segment, school)
    return certificate_number(
        state.segment, details.graduation_year, school, details.certificate_sequence, rules.layout
    )

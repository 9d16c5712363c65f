"""The event a status transition records when it takes effect (R40-R46), computed from the state at that moment."""

from __future__ import annotations

from datetime import date

from xueji_registry.domain import exception_needs, periods
from xueji_registry.domain import status_changes as sc
from xueji_registry.domain import status_events as se
from xueji_registry.domain.change_kinds import DropoutCause
from xueji_registry.domain.event_base import Moved
from xueji_registry.domain.events import RegistryEvent
from xueji_registry.domain.periods import COMPULSORY
from xueji_registry.domain.preconditions import graduation_certificate
from xueji_registry.domain.record_changes import ChangeDetails, ConfirmCreation
from xueji_registry.domain.rules import RegistryRules
from xueji_registry.domain.state import StudentStatus


def status_effect(
    details: ChangeDetails, state: StudentStatus, moved: Moved, today: date, rules: RegistryRules
) -> RegistryEvent:
    suspension = state.suspension
    match details:
        case ConfirmCreation():
            return se.CreationConfirmed(**moved)
        case sc.Suspend(cause=cause, term=term, months=months):
            expires = periods.months_after(today, months or rules.suspension_months)
            return se.Suspended(
                **moved,
                cause=cause,
                since=today,
                expires_on=expires,
                grade=state.grade,
                term=term,
                exception_ids=exception_needs.used(details, state, rules),
            )
        case sc.ExtendSuspension(months=months) if suspension is not None:
            expires = periods.months_after(suspension.expires_on, months or rules.extension_months)
            return se.SuspensionExtended(**moved, expires_on=expires)
        case sc.Resume(grade=grade):
            return se.Resumed(**moved, grade=grade)
        case sc.GoAbroad():
            return se.WentAbroad(**moved)
        case sc.ReturnFromAbroad():
            return se.ReturnedFromAbroad(**moved)
        case sc.DropOut(cause=cause):
            return se.DroppedOut(**moved, cause=cause, on=today, status_retained=False, written_report_required=False)
        case sc.AbsenceDropout(migrant_household_county=household_county):
            # R45: compulsory education keeps the status (and hands a migrant child's file over); senior high not.
            compulsory = state.segment in COMPULSORY
            return se.DroppedOut(
                **moved,
                cause=DropoutCause.UNEXCUSED_ABSENCE,
                on=today,
                status_retained=compulsory,
                written_report_required=compulsory,
                migrant_household_county=household_county if compulsory else None,
            )
        case sc.ResumeAfterDropout():
            return se.ResumedAfterDropout(**moved)
        case sc.Death(date_of_death=died):
            late = today > periods.months_after(died, periods.DEATH_REPORT_MONTHS)
            return se.Deceased(**moved, date_of_death=died, reported_late=late)
        case sc.Graduate(graduation_year=year):
            number = graduation_certificate(details, state, rules)
            return se.Graduated(**moved, graduation_year=year, certificate_number=number)
        case sc.Complete():
            return se.Completed(**moved)
        case sc.Leave(study_from=start, study_to=end):
            return se.Left(**moved, study_from=start, study_to=end)
    raise ValueError(f"{details.kind} is not a status transition")  # pragma: no cover - checked by the caller

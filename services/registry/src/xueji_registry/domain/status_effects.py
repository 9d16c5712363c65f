"""The event a status transition records when it takes effect (R40-R46), computed from the state at that moment."""

from __future__ import annotations

from datetime import date

from xueji_registry.domain import exception_needs, periods
from xueji_registry.domain.change_kinds import DropoutCause
from xueji_registry.domain.event_base import Moved
from xueji_registry.domain.events import RegistryEvent
from xueji_registry.domain.periods import COMPULSORY
from xueji_registry.domain.preconditions import graduation_certificate
from xueji_registry.domain.record_changes import ChangeDetails, ConfirmCreation
from xueji_registry.domain.rules import RegistryRules
from xueji_registry.domain.state import StudentStatus
from xueji_registry.domain.status_changes import (
    AbsenceDropout,
    Complete,
    Death,
    DropOut,
    ExtendSuspension,
    GoAbroad,
    Graduate,
    Leave,
    Resume,
    ResumeAfterDropout,
    ReturnFromAbroad,
    Suspend,
)
from xueji_registry.domain.status_events import (
    Completed,
    CreationConfirmed,
    Deceased,
    DroppedOut,
    Graduated,
    Left,
    Resumed,
    ResumedAfterDropout,
    ReturnedFromAbroad,
    Suspended,
    SuspensionExtended,
    WentAbroad,
)


def status_effect(
    details: ChangeDetails, state: StudentStatus, moved: Moved, today: date, rules: RegistryRules
) -> RegistryEvent:
    suspension = state.suspension
    match details:
        case ConfirmCreation():
            return CreationConfirmed(**moved)
        case Suspend(cause=cause, term=term, months=months):
            expires = periods.months_after(today, months or rules.suspension_months)
            return Suspended(
                **moved,
                cause=cause,
                since=today,
                expires_on=expires,
                grade=state.grade,
                term=term,
                exception_ids=exception_needs.used(details, state, rules),
            )
        case ExtendSuspension(months=months) if suspension is not None:
            expires = periods.months_after(suspension.expires_on, months or rules.extension_months)
            return SuspensionExtended(**moved, expires_on=expires)
        case Resume(grade=grade):
            return Resumed(**moved, grade=grade)
        case GoAbroad():
            return WentAbroad(**moved)
        case ReturnFromAbroad():
            return ReturnedFromAbroad(**moved)
        case DropOut(cause=cause):
            return DroppedOut(**moved, cause=cause, on=today, status_retained=False, written_report_required=False)
        case AbsenceDropout(migrant_household_county=household_county):
            # R45: compulsory education keeps the status (and hands a migrant child's file over); senior high not.
            compulsory = state.segment in COMPULSORY
            return DroppedOut(
                **moved,
                cause=DropoutCause.UNEXCUSED_ABSENCE,
                on=today,
                status_retained=compulsory,
                written_report_required=compulsory,
                migrant_household_county=household_county if compulsory else None,
            )
        case ResumeAfterDropout():
            return ResumedAfterDropout(**moved)
        case Death(date_of_death=died):
            late = today > periods.months_after(died, periods.DEATH_REPORT_MONTHS)
            return Deceased(**moved, date_of_death=died, reported_late=late)
        case Graduate(graduation_year=year):
            number = graduation_certificate(details, state, rules)
            return Graduated(**moved, graduation_year=year, certificate_number=number)
        case Complete():
            return Completed(**moved)
        case Leave(study_from=start, study_to=end):
            return Left(**moved, study_from=start, study_to=end)
    raise ValueError(f"{details.kind} is not a status transition")  # pragma: no cover - checked by the caller

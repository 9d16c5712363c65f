"""How each status transition event changes the state; the new status is always the event's `to_state`."""

from __future__ import annotations

from typing import Any

from xueji_contracts.calendar.deadlines import local_date
from xueji_registry.domain.event_base import TransitionEventBase
from xueji_registry.domain.events import RegistryEvent
from xueji_registry.domain.rule_exceptions import mark_used
from xueji_registry.domain.state import (
    CertificateKind,
    CertificateRecord,
    DropoutRecord,
    ProgressionOrigin,
    StudentStatus,
    SuspensionRecord,
)
from xueji_registry.domain.status_events import (
    Completed,
    CreationConfirmed,
    Deceased,
    DroppedOut,
    FreshmanRegistered,
    Graduated,
    Left,
    ProgressionRolledBack,
    Resumed,
    ResumedAfterDropout,
    ReturnedFromAbroad,
    Suspended,
    SuspensionExtended,
    TransferredIn,
    TransferredOut,
    WentAbroad,
)


def _specific(state: StudentStatus, event: RegistryEvent) -> dict[str, Any]:
    match event:
        case Suspended():
            record = SuspensionRecord(
                cause=event.cause, since=event.since, expires_on=event.expires_on, grade=event.grade, term=event.term
            )
            used = mark_used(state.exceptions, event.exception_ids, event.change_id or "suspension")
            return {"suspension": record, "exceptions": used}
        case SuspensionExtended():
            assert state.suspension is not None  # decide extends only a suspension
            return {
                "suspension": state.suspension.model_copy(
                    update={"expires_on": event.expires_on, "extensions": state.suspension.extensions + 1}
                )
            }
        case Resumed():
            return {"grade": event.grade, "suspension": None}
        case DroppedOut():
            dropout = DropoutRecord(
                cause=event.cause,
                on=event.on,
                status_retained=event.status_retained,
                migrant_household_county=event.migrant_household_county,
            )
            return {"dropout": dropout, "suspension": None, "absent_since": None}
        case ResumedAfterDropout():
            return {"dropout": None}
        case Graduated() | Completed() | Left():
            return {"certificates": (*state.certificates, _certificate(event, state.school_code))}
        case FreshmanRegistered():
            return {
                **_placed(event),
                "suspension": None,
                "dropout": None,
                "absent_since": None,
                **_progressed(state, event.transfer_id),
            }
        case TransferredOut():
            return {
                "transfers": (*state.transfers, event.transfer_id),
                **_progressed(state, event.transfer_id if event.progression else None),
            }
        case ProgressionRolledBack():
            return {
                **_placed(event),
                "transfers": (*state.transfers, rollback_id(event.transfer_id)),
                "progressed_from": None,
            }
        case TransferredIn():
            return {
                "school_code": event.to_school,
                "transfers": (*state.transfers, event.transfer_id),
                "dropout": None,
            }
        case CreationConfirmed() | WentAbroad() | ReturnedFromAbroad() | Deceased():
            return {}
    raise ValueError(f"no state change defined for {event.type}")  # pragma: no cover - the union is exhaustive


def _placed(event: FreshmanRegistered | ProgressionRolledBack) -> dict[str, Any]:
    """Where the record now is: school, segment, grade and since when (R07 freshman, R33 back at the old school)."""
    fields = ("school_code", "segment", "grade", "graduation_grade", "admitted_on")
    return {name: getattr(event, name) for name in fields} | {"class_year": event.school_year}


def rollback_id(transfer_id: str) -> str:
    """How a rolled-back case is remembered among the applied transfer ids: a redelivered rollback changes nothing."""
    return f"{transfer_id}:rollback"


def _progressed(state: StudentStatus, transfer_id: str | None) -> dict[str, Any]:
    """A progression case remembers where the graduate stood, for an R33 rollback; a freshman registration does not."""
    if transfer_id is None:
        return {}
    origin = ProgressionOrigin(
        transfer_id=transfer_id, state=state.state, school_code=state.school_code, segment=state.segment,
        grade=state.grade, graduation_grade=state.graduation_grade, admitted_on=state.admitted_on,
        class_year=state.class_year,
    )  # fmt: skip
    return {"transfers": (*state.transfers, transfer_id), "progressed_from": origin}


def _certificate(event: Graduated | Completed | Left, school_code: str) -> CertificateRecord:
    """The certificate an event issues, kept with the school that issued it (R08: its county prints a reissue)."""
    issued_on = local_date(event.at)
    if isinstance(event, Graduated):
        number = event.certificate_number
        return CertificateRecord(
            kind=CertificateKind.GRADUATION, number=number, issued_on=issued_on, school_code=school_code
        )
    if isinstance(event, Completed):
        return CertificateRecord(kind=CertificateKind.COMPLETION, issued_on=issued_on, school_code=school_code)
    return CertificateRecord(
        kind=CertificateKind.LEAVING,
        issued_on=issued_on,
        school_code=school_code,
        study_from=event.study_from,
        study_to=event.study_to,
    )


def transition_changes(state: StudentStatus, event: RegistryEvent) -> dict[str, Any]:
    if not isinstance(event, TransitionEventBase):
        raise ValueError(f"{event.type} is not a status transition")  # pragma: no cover - the union is exhaustive
    pending = tuple(p for p in state.pending if p.change_id != event.change_id)
    return {**_specific(state, event), "state": event.to_state, "pending": pending}

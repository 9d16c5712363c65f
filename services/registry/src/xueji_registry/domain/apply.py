"""apply(state, event) -> state: the only way state changes; replay folds a stream from its first event."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from xueji_contracts.calendar.deadlines import local_date
from xueji_contracts.messages.status import StatusState
from xueji_registry.domain import record_events as rec
from xueji_registry.domain.change_events import (
    ChangeApproved,
    ChangeRejected,
    ChangeRequested,
    DuplicateCheckReferred,
    DuplicateReviewCleared,
    NationalChecksRecorded,
)
from xueji_registry.domain.events import RegistryEvent
from xueji_registry.domain.rule_exceptions import ExceptionRecorded, GrantedException, mark_used
from xueji_registry.domain.state import ChangePhase, Closure, DuplicateReview, PendingChange, StudentStatus
from xueji_registry.domain.status_apply import transition_changes
from xueji_registry.domain.status_events import ArrivalReconciled, TransferredIn


def _start(event: RegistryEvent) -> StudentStatus:
    if isinstance(event, rec.StatusRecorded):
        return StudentStatus(
            student_id=event.student_id,
            version=1,
            state=event.state,
            school_code=event.school_code,
            segment=event.segment,
            grade=event.grade,
            graduation_grade=event.graduation_grade,
            identity=event.identity,
            basic=event.basic,
            admitted_on=event.admitted_on,
            class_year=event.school_year,
            status_file_due=event.status_file_due,
            status_number=event.status_number,
        )
    if isinstance(event, TransferredIn) and event.arrival is not None:
        arrival = event.arrival
        return StudentStatus(
            student_id=arrival.student_id,
            version=1,
            state=StatusState.ENROLLED,
            school_code=event.to_school,
            segment=arrival.segment,
            grade=arrival.grade,
            graduation_grade=arrival.graduation_grade,
            identity=arrival.identity,
            basic=arrival.basic,
            admitted_on=arrival.admitted_on,
            status_number=arrival.status_number,
            transfers=(event.transfer_id,),
            paper_arrival=event.transfer_id if arrival.source == "paper_form" else None,
        )
    raise ValueError(f"a status record starts with status_recorded or a first transfer in, not {event.type}")


def _without(state: StudentStatus, change_id: str | None) -> tuple[PendingChange, ...]:
    return tuple(p for p in state.pending if p.change_id != change_id)


def _reviewed(state: StudentStatus, change_id: str, review: DuplicateReview) -> tuple[PendingChange, ...]:
    return tuple(p.model_copy(update={"review": review}) if p.change_id == change_id else p for p in state.pending)


def _record_changes(state: StudentStatus, event: RegistryEvent) -> dict[str, Any]:
    match event:
        case ChangeRequested():
            pending = PendingChange(
                change_id=event.change_id,
                details=event.details,
                requested_at=event.at,
                requested_by=event.by,
                reason=event.reason,
                evidence=event.evidence,
            )
            return {"pending": (*state.pending, pending)}
        case ChangeApproved(awaiting_national_checks=True):
            return {
                "pending": tuple(
                    p.model_copy(update={"phase": ChangePhase.AWAITING_NATIONAL_CHECKS})
                    if p.change_id == event.change_id
                    else p
                    for p in state.pending
                )
            }
        case ChangeApproved() | ChangeRejected() | NationalChecksRecorded():
            return {"pending": _without(state, event.change_id)}
        case DuplicateCheckReferred():
            review = DuplicateReview(
                case_id=event.review_case_id, tier=event.tier, identity_comparison=event.identity_comparison
            )
            return {"pending": _reviewed(state, event.change_id, review)}
        case DuplicateReviewCleared():
            cleared = state.pending_change(event.change_id)
            if cleared is None or cleared.review is None:
                return {}
            return {"pending": _reviewed(state, event.change_id, cleared.review.model_copy(update={"cleared": True}))}
        case rec.AbsenceRecorded():
            return {"absent_since": event.since}
        case rec.AbsenceEnded():
            return {"absent_since": None}
        case rec.FileHandedOver():
            assert state.dropout is not None  # decide hands over only a dropout's file
            return {"dropout": state.dropout.model_copy(update={"file_handed_over_on": local_date(event.at)})}
        case rec.StatusFileCompleted():
            return {"status_file_due": None, "status_file_completed_on": local_date(event.at)}
        case rec.StatusNumberChanged():
            return {
                "status_number": event.number,
                "previous_numbers": (*state.previous_numbers, event.previous),
                "number_cause": event.cause,
            }
        case rec.SupplementaryNumberAssigned():
            return {"supplementary_numbers": {**state.supplementary_numbers, event.segment: event.number}}
        case rec.KeyInfoChanged():
            names = state.previous_names + ((event.previous_name,) if event.name != event.previous_name else ())
            ids = state.previous_id_numbers
            if event.previous_id_number is not None and event.id_number != event.previous_id_number:
                ids = (*ids, event.previous_id_number)
            identity = state.identity.model_copy(
                update={"name": event.name, "id_number": event.id_number, "birth_date": event.birth_date}
            )
            return {"identity": identity, "previous_names": names, "previous_id_numbers": ids}
        case rec.BasicInfoChanged():
            patch = event.patch.changed()
            identity_fields = {k: v for k, v in patch.items() if k in ("gender", "birth_date")}
            basic_fields = {k: v for k, v in patch.items() if k not in identity_fields}
            return {
                "identity": state.identity.model_copy(update=identity_fields),
                "basic": state.basic.model_copy(update=basic_fields),
            }
        case rec.CertificateReissued():
            reissued_on = local_date(event.at)
            used = (event.exception_id,) if event.exception_id else ()
            return {
                "certificates": tuple(
                    c.model_copy(update={"reissued_on": reissued_on, "reissues": c.reissues + 1})
                    if c.number == event.certificate_number
                    else c
                    for c in state.certificates
                ),
                "exceptions": mark_used(state.exceptions, used, event.change_id),
            }
        case ExceptionRecorded():
            granted = GrantedException(
                exception_id=event.exception_id,
                rule=event.rule,
                clause=event.clause,
                certificate_number=event.certificate_number,
                authority=event.by.role,
                jurisdiction=event.by.code,
                operator=event.by.operator_id,
                reason=event.reason,
                evidence=event.evidence,
                recorded_at=event.at,
            )
            return {"exceptions": (*state.exceptions, granted)}
        case rec.RecordClosed():
            return {"closure": Closure(cause=event.cause, at=event.at), "pending": ()}
        case ArrivalReconciled(arrival=system):
            numbers = state.previous_numbers
            if system.status_number != state.status_number:
                numbers = (*numbers, state.status_number)  # the paper's number stays in the history
            return {
                "identity": system.identity,
                "basic": system.basic,
                "status_number": system.status_number,
                "previous_numbers": numbers,
                "segment": system.segment,
                "grade": system.grade,
                "graduation_grade": system.graduation_grade,
                "admitted_on": system.admitted_on,
                "paper_arrival": None,
            }
    return transition_changes(state, event)


def apply(state: StudentStatus | None, event: RegistryEvent) -> StudentStatus:
    """The state after `event`; `state` is None only before the record's first event."""
    if state is None:
        return _start(event)
    return state.model_copy(update={**_record_changes(state, event), "version": state.version + 1})


def replay(events: Iterable[RegistryEvent]) -> StudentStatus | None:
    state: StudentStatus | None = None
    for event in events:
        state = apply(state, event)
    return state

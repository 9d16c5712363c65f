"""What an allowed change records once it takes effect; status transitions are in `status_effects`."""

from __future__ import annotations

from xueji_contracts.calendar.deadlines import local_date
from xueji_contracts.identity import birth_date_of
from xueji_registry.domain import exception_needs
from xueji_registry.domain.event_base import CheckOutcome, Moved, Recorded
from xueji_registry.domain.events import RegistryEvent
from xueji_registry.domain.numbers import formal_number
from xueji_registry.domain.record_changes import (
    ChangeBasicInfo,
    ChangeDetails,
    ChangeKeyInfo,
    ChangeToFormalNumber,
    DeleteRecord,
    ReapplyFormalNumber,
    ReissueCertificate,
)
from xueji_registry.domain.record_events import (
    BasicInfoChanged,
    CertificateReissued,
    ClosureCause,
    KeyInfoChanged,
    NumberChangeCause,
    RecordClosed,
    StatusNumberChanged,
)
from xueji_registry.domain.rules import RegistryRules
from xueji_registry.domain.state import StudentStatus
from xueji_registry.domain.status_effects import status_effect
from xueji_registry.domain.transitions import TRANSITIONS


def effects(
    details: ChangeDetails, state: StudentStatus, change_id: str | None, recorded: Recorded, rules: RegistryRules
) -> list[RegistryEvent]:
    """The events of `details` taking effect as `recorded` (when, by whom, for the request's reason)."""
    to_state = TRANSITIONS[details.kind].to_state
    if to_state is not None:
        moved = Moved(**recorded, change_id=change_id, from_state=state.state, to_state=to_state)
        return [status_effect(details, state, moved, local_date(recorded["at"]), rules)]
    if change_id is None:
        raise ValueError(f"{details.kind} takes effect only through a request")  # pragma: no cover
    return _record_effects(details, state, change_id, recorded, rules)


def _record_effects(
    details: ChangeDetails, state: StudentStatus, change_id: str, recorded: Recorded, rules: RegistryRules
) -> list[RegistryEvent]:
    identity = state.identity
    match details:
        case ReissueCertificate(certificate_number=number):
            used = exception_needs.used(details, state, rules)
            exception_id = used[0] if used else None
            return [
                CertificateReissued(
                    **recorded, change_id=change_id, certificate_number=number, exception_id=exception_id
                )
            ]
        case ChangeBasicInfo(patch=patch):
            current = {**identity.model_dump(), **state.basic.model_dump()}
            previous = patch.model_validate({field: current[field] for field in patch.changed()})
            return [BasicInfoChanged(**recorded, change_id=change_id, previous=previous, patch=patch)]
        case ChangeKeyInfo(name=name, id_number=id_number):
            return [_key_info(state, change_id, recorded, name or identity.name, id_number or identity.id_number)]
        case ChangeToFormalNumber(id_number=id_number):
            return [
                _key_info(state, change_id, recorded, identity.name, id_number),
                StatusNumberChanged(
                    **recorded,
                    change_id=change_id,
                    previous=state.status_number,
                    number=formal_number(id_number),
                    cause=NumberChangeCause.J_TO_G,
                    duplicate_check=CheckOutcome.PASSED,
                    identity_comparison=CheckOutcome.PASSED,
                ),
            ]
        case ReapplyFormalNumber(number=number):
            return [
                StatusNumberChanged(
                    **recorded,
                    change_id=change_id,
                    previous=state.status_number,
                    number=number or f"G{identity.id_number}",
                    cause=NumberChangeCause.REAPPLIED,
                    duplicate_check=CheckOutcome.PASSED,
                    identity_comparison=CheckOutcome.PASSED,
                )
            ]
        case DeleteRecord():
            cause = ClosureCause.DELETED_WITH_MINISTRY_APPROVAL
            return [RecordClosed(**recorded, change_id=change_id, cause=cause, status_number=state.status_number)]
    raise ValueError(f"no effect defined for {details.kind}")  # pragma: no cover - the union is exhaustive


def _key_info(
    state: StudentStatus, change_id: str, recorded: Recorded, name: str, id_number: str | None
) -> KeyInfoChanged:
    identity = state.identity
    return KeyInfoChanged(
        **recorded,
        change_id=change_id,
        previous_name=identity.name,
        name=name,
        previous_id_number=identity.id_number,
        id_number=id_number,
        birth_date=birth_date_of(id_number) if id_number else identity.birth_date,
    )

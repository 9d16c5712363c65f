"""A public change as the feed's payloads (R52): the change message and the student's snapshot; masked, no names."""

from __future__ import annotations

from xueji_contracts.calendar.deadlines import local_date
from xueji_contracts.identity import mask_id_number
from xueji_contracts.messages.status import DeletionApproval, StatusBefore, StudentStatusRecorded, StudentStatusSnapshot
from xueji_registry.domain.public_changes import PublicChange
from xueji_registry.domain.record_events import KeyInfoChanged, RecordClosed
from xueji_registry.domain.state import StudentStatus
from xueji_registry.domain.status_events import Suspended, SuspensionExtended


def _now_is(state: StudentStatus) -> dict[str, object]:
    return {
        "student_id": state.student_id,
        "school_code": state.school_code,
        "county_code": state.county_code,
        "state": state.state,
        "status_number_masked": mask_id_number(state.status_number),
        "grade": state.grade,
        "school_year": state.school_year,  # the class's, as R07 and R54 take it (not the admission date's)
    }


def _before(state: StudentStatus | None) -> StatusBefore | None:
    if state is None:
        return None
    return StatusBefore(
        state=state.state,
        school_code=state.school_code,
        county_code=state.county_code,
        grade=state.grade,
        status_number_masked=mask_id_number(state.status_number),
    )


def change_message(change: PublicChange) -> StudentStatusRecorded:
    """What `student.status.v1` says of one change: the status after it, the kind, before, dates and sequence."""
    event = change.event
    more: dict[str, object] = {}
    if isinstance(event, Suspended | SuspensionExtended):
        more["planned_end"] = event.expires_on
    if isinstance(event, RecordClosed) and change.kind == "deleted":
        more["approval"] = DeletionApproval(
            reference=event.change_id, approved_by=event.by.role.value, approved_on=local_date(event.at)
        )
    if isinstance(event, KeyInfoChanged):
        names = ("name",) if event.name != event.previous_name else ()
        more["corrected"] = names + (("identity_document",) if event.id_number != event.previous_id_number else ())
    return StudentStatusRecorded.model_validate(
        _now_is(change.after)
        | {
            "change": change.kind,
            "sequence": change.sequence,
            "effective_on": change.effective_on,
            "recorded_at": change.recorded_at,
            "before": _before(change.before),
        }
        | more
    )


def snapshot_message(change: PublicChange) -> StudentStatusSnapshot:
    """The student's latest public status, as of `change` (the last of its commit)."""
    return StudentStatusSnapshot.model_validate(
        _now_is(change.after)
        | {
            "sequence": change.sequence,
            "last_change": change.kind,
            "effective_on": change.effective_on,
            "recorded_at": change.recorded_at,
            "closed": change.after.closure is not None,
        }
    )

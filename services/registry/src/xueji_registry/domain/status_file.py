"""R02: a status record's file is established within 1 month of admission; the school records when it is."""

from __future__ import annotations

from datetime import datetime

from xueji_registry.domain.commands import CompleteStatusFile
from xueji_registry.domain.errors import Refused
from xueji_registry.domain.event_base import recorded
from xueji_registry.domain.events import RegistryEvent
from xueji_registry.domain.evidence import EvidenceKind, missing_evidence
from xueji_registry.domain.record_events import StatusFileCompleted
from xueji_registry.domain.state import StudentStatus


def complete(command: CompleteStatusFile, state: StudentStatus, now: datetime) -> list[RegistryEvent]:
    if state.status_file_due is None:
        when = state.status_file_completed_on
        raise Refused("R02", f"the status file was already established{f' on {when}' if when else ''}")
    lacking = missing_evidence(command.evidence, all_of=(EvidenceKind.STATUS_FILE,))
    if lacking:
        raise Refused("R02", f"{lacking}: reference the established file", field="evidence")
    return [
        StatusFileCompleted(
            **recorded(command, state.student_id, now),
            due=state.status_file_due,
        )
    ]

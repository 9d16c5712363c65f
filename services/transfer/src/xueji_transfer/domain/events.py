"""Every event of a transfer case as one tagged union, and its (de)serialization for the event store."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, TypeAdapter, ValidationError

from xueji_transfer.domain.case_events import (
    ConditionsExamined,
    MaterialsAdded,
    PaperFileDeadlineChanged,
    PaperFileOverdue,
    PaperFileSent,
    StudentNotifiedToReport,
    TransferApplied,
    TransferCompleted,
    TransferRejected,
    TransferRolledBack,
)
from xueji_transfer.domain.offline_events import (
    OfflineAccepted,
    OfflineConsentSigned,
    OfflinePathOpened,
    OfflineReconciled,
    OfflineTimerArmed,
)
from xueji_transfer.domain.stage_events import (
    StageApproved,
    StageDeadlineChanged,
    StageEscalated,
    StageOpened,
    StageReturned,
    StageWarned,
)

TransferEvent = Annotated[
    TransferApplied
    | MaterialsAdded
    | ConditionsExamined
    | StageOpened
    | StageApproved
    | StageReturned
    | StageWarned
    | StageEscalated
    | StageDeadlineChanged
    | TransferRejected
    | OfflineTimerArmed
    | OfflinePathOpened
    | OfflineConsentSigned
    | OfflineAccepted
    | OfflineReconciled
    | StudentNotifiedToReport
    | TransferCompleted
    | PaperFileSent
    | PaperFileDeadlineChanged
    | PaperFileOverdue
    | TransferRolledBack,
    Field(discriminator="type"),
]

_EVENTS: TypeAdapter[list[TransferEvent]] = TypeAdapter(list[TransferEvent])
_EVENT: TypeAdapter[TransferEvent] = TypeAdapter(TransferEvent)


def to_documents(events: list[TransferEvent]) -> list[dict[str, Any]]:
    return [event.model_dump(mode="json") for event in events]


def from_documents(documents: list[dict[str, Any]]) -> list[TransferEvent]:
    return _EVENTS.validate_python(documents)


def is_case_event(document: dict[str, Any]) -> bool:
    """Whether a stored event belongs to a transfer case (the case store also holds other streams, e.g. R27
    exceptions)."""
    try:
        _EVENT.validate_python(document)
    except ValidationError:
        return False
    return True

"""Every event of a status record as one tagged union, and its (de)serialization for the event store.

Import event classes from here: `from xueji_registry.domain.events import Suspended`.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, TypeAdapter

from xueji_registry.domain.change_events import ChangeApproved, ChangeRejected, ChangeRequested, NationalChecksRecorded
from xueji_registry.domain.record_events import (
    AbsenceEnded,
    AbsenceRecorded,
    BasicInfoChanged,
    CertificateReissued,
    KeyInfoChanged,
    RecordClosed,
    StatusFileCompleted,
    StatusNumberChanged,
    StatusRecorded,
    SupplementaryNumberAssigned,
)
from xueji_registry.domain.rule_exceptions import ExceptionRecorded
from xueji_registry.domain.status_events import (
    Arrival,
    ArrivalReconciled,
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

RegistryEvent = Annotated[
    StatusRecorded
    | StatusFileCompleted
    | AbsenceRecorded
    | AbsenceEnded
    | StatusNumberChanged
    | SupplementaryNumberAssigned
    | KeyInfoChanged
    | BasicInfoChanged
    | CertificateReissued
    | RecordClosed
    | ChangeRequested
    | ChangeApproved
    | ChangeRejected
    | NationalChecksRecorded
    | CreationConfirmed
    | Suspended
    | SuspensionExtended
    | Resumed
    | WentAbroad
    | ReturnedFromAbroad
    | DroppedOut
    | ResumedAfterDropout
    | Deceased
    | Graduated
    | Completed
    | Left
    | TransferredOut
    | TransferredIn
    | FreshmanRegistered
    | ProgressionRolledBack
    | ArrivalReconciled
    | ExceptionRecorded,
    Field(discriminator="type"),
]

__all__ = [
    "AbsenceEnded",
    "AbsenceRecorded",
    "Arrival",
    "ArrivalReconciled",
    "BasicInfoChanged",
    "CertificateReissued",
    "ChangeApproved",
    "ChangeRejected",
    "ChangeRequested",
    "Completed",
    "CreationConfirmed",
    "Deceased",
    "DroppedOut",
    "ExceptionRecorded",
    "FreshmanRegistered",
    "Graduated",
    "KeyInfoChanged",
    "Left",
    "NationalChecksRecorded",
    "ProgressionRolledBack",
    "RecordClosed",
    "RegistryEvent",
    "Resumed",
    "ResumedAfterDropout",
    "ReturnedFromAbroad",
    "StatusFileCompleted",
    "StatusNumberChanged",
    "StatusRecorded",
    "SupplementaryNumberAssigned",
    "Suspended",
    "SuspensionExtended",
    "TransferredIn",
    "TransferredOut",
    "WentAbroad",
    "from_documents",
    "to_documents",
]

_EVENTS: TypeAdapter[list[RegistryEvent]] = TypeAdapter(list[RegistryEvent])


def to_documents(events: list[RegistryEvent]) -> list[dict[str, Any]]:
    return [event.model_dump(mode="json") for event in events]


def from_documents(documents: list[dict[str, Any]]) -> list[RegistryEvent]:
    return _EVENTS.validate_python(documents)

"""Every event of a status record as one tagged union, and its (de)serialization for the event store.

The event classes live in `status_events` (transitions), `record_events` (the record's own facts),
`change_events` (requests and reviews) and `rule_exceptions`; import them from there.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, TypeAdapter

from xueji_registry.domain import record_events as rec
from xueji_registry.domain import status_events as se
from xueji_registry.domain.change_events import (
    ChangeApproved,
    ChangeRejected,
    ChangeRequested,
    DuplicateCheckReferred,
    DuplicateReviewCleared,
    NationalChecksRecorded,
)
from xueji_registry.domain.rule_exceptions import ExceptionRecorded

RegistryEvent = Annotated[
    rec.StatusRecorded
    | rec.StatusFileCompleted
    | rec.AbsenceRecorded
    | rec.AbsenceEnded
    | rec.FileHandedOver
    | rec.StatusNumberChanged
    | rec.SupplementaryNumberAssigned
    | rec.KeyInfoChanged
    | rec.BasicInfoChanged
    | rec.CertificateReissued
    | rec.RecordClosed
    | ChangeRequested
    | ChangeApproved
    | ChangeRejected
    | NationalChecksRecorded
    | DuplicateCheckReferred
    | DuplicateReviewCleared
    | se.CreationConfirmed
    | se.Suspended
    | se.SuspensionExtended
    | se.Resumed
    | se.WentAbroad
    | se.ReturnedFromAbroad
    | se.DroppedOut
    | se.ResumedAfterDropout
    | se.Deceased
    | se.Graduated
    | se.Completed
    | se.Left
    | se.TransferredOut
    | se.TransferredIn
    | se.FreshmanRegistered
    | se.ProgressionRolledBack
    | se.ArrivalReconciled
    | ExceptionRecorded,
    Field(discriminator="type"),
]

__all__ = ["RegistryEvent", "from_documents", "to_documents"]

_EVENTS: TypeAdapter[list[RegistryEvent]] = TypeAdapter(list[RegistryEvent])


def to_documents(events: list[RegistryEvent]) -> list[dict[str, Any]]:
    return [event.model_dump(mode="json") for event in events]


def from_documents(documents: list[dict[str, Any]]) -> list[RegistryEvent]:
    return _EVENTS.validate_python(documents)

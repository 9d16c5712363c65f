"""Which recorded events are public changes on the status feed (R52), what kind each is and its sequence number.

The kind of an event depends on the event alone, so counting a stream's public events gives the next sequence
number: derived from the stored stream, it is gapless per student and survives any restart or redelivery.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from xueji_contracts.calendar.deadlines import local_date
from xueji_contracts.messages.status import StatusChangeKind as K
from xueji_contracts.messages.status import StatusState
from xueji_registry.domain import record_events as rec
from xueji_registry.domain import status_events as se
from xueji_registry.domain.apply import apply
from xueji_registry.domain.events import RegistryEvent
from xueji_registry.domain.state import StudentStatus

# Status-file, absence, supplementary-number, basic-information, certificate and request events are not public.
_KINDS: dict[type, K] = {
    se.CreationConfirmed: K.ENROLLED,
    se.TransferredIn: K.TRANSFERRED_IN,
    se.FreshmanRegistered: K.ENROLLED,  # R07: enrolled again, at the school of the later segment
    se.TransferredOut: K.TRANSFERRED_OUT,
    se.ProgressionRolledBack: K.TRANSFERRED_IN,  # R33: back at the graduating school (before: the school it went to)
    se.Suspended: K.SUSPENDED,
    se.SuspensionExtended: K.SUSPENSION_EXTENDED,
    se.Resumed: K.RESUMED,
    se.ResumedAfterDropout: K.RESUMED,
    se.WentAbroad: K.ABROAD,
    se.ReturnedFromAbroad: K.RETURNED_FROM_ABROAD,
    se.DroppedOut: K.DROPPED_OUT,
    se.Graduated: K.GRADUATED,
    se.Completed: K.COMPLETED,
    se.Left: K.LEFT,
    se.Deceased: K.DECEASED,
    rec.KeyInfoChanged: K.KEY_INFORMATION_CORRECTED,
    rec.StatusNumberChanged: K.NUMBER_CHANGED,
    se.ArrivalReconciled: K.ARRIVAL_RECONCILED,
}


def change_kind(event: RegistryEvent) -> K | None:
    """The public kind of an event, or None when subscribers do not hear of it."""
    match event:
        case rec.StatusRecorded(state=StatusState.PENDING_REVIEW):
            return K.RECORDED_FOR_REVIEW
        case rec.StatusRecorded():
            return K.ENROLLED
        case rec.RecordClosed(cause=rec.ClosureCause.DELETED_WITH_MINISTRY_APPROVAL):
            return K.DELETED
        case rec.RecordClosed():
            return K.REFUSED_AS_DUPLICATE
    return _KINDS.get(type(event))


def published_so_far(history: Iterable[RegistryEvent]) -> int:
    """How many changes of this stream are on the feed: the last sequence number given out."""
    return sum(1 for event in history if change_kind(event) is not None)


@dataclass(frozen=True)
class PublicChange:
    kind: K
    sequence: int
    before: StudentStatus | None
    after: StudentStatus
    effective_on: date  # the day it took effect, Asia/Shanghai
    recorded_at: datetime
    event: RegistryEvent


def effective_on(event: RegistryEvent, after: StudentStatus) -> date:
    """The day a change took effect: the dates the measures give it, else the day it was recorded (Asia/Shanghai)."""
    match event:
        case rec.StatusRecorded() | se.CreationConfirmed() | se.FreshmanRegistered():
            return after.admitted_on
        case se.Suspended():
            return event.since
        case se.DroppedOut():
            return event.on
        case se.Deceased():
            return event.date_of_death
        case se.Left():
            return event.study_to
    return local_date(event.at)


def public_changes(before: StudentStatus | None, events: Sequence[RegistryEvent], published: int) -> list[PublicChange]:
    """The public changes among one commit's `events`, applied to `before` in order, numbered after `published`."""
    changes: list[PublicChange] = []
    state = before
    for event in events:
        after = apply(state, event)
        kind = change_kind(event)
        if kind is not None:
            sequence = published + len(changes) + 1
            changes.append(PublicChange(kind, sequence, state, after, effective_on(event, after), event.at, event))
        state = after
    return changes

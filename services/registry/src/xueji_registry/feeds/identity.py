"""The identity feed of the dedupe index (registry.identity.v1): what a change did to "who this record says the
student is". Derived by comparing the record before and after a command, so every path that creates, releases,
changes or deletes a record feeds the index the same way, in the same commit (R01, R10, R13, R14). A creation refused
after dedupe answered it is told on the same feed, so dedupe releases the child it held for it (`refusal_messages`)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from pydantic import BaseModel

from xueji_contracts.envelope import envelop
from xueji_contracts.messages.dedupe import IdentityChanged, IdentityRecorded, IdentityRefused, IdentityRemoved
from xueji_contracts.topics import REGISTRY_IDENTITY
from xueji_kit.outbox_entries import Outgoing
from xueji_registry.domain import StudentStatus
from xueji_registry.domain.person import PersonFacts


def _indexed(state: StudentStatus | None) -> bool:
    """A record dedupe compares against: it exists and was not closed. One waiting for the county's review is
    compared against too: the same ID number checked meanwhile is refused outright (R14), not sent to review beside
    it as a second record the county might also release (R01); refused as the same child, it leaves the index."""
    return state is not None and state.closure is None


def _identity(state: StudentStatus, kind: type[IdentityRecorded]) -> IdentityRecorded:
    return kind(**state.person_facts(), status_number=state.status_number, record_version=state.version)


def _evidence(state: StudentStatus) -> tuple[object, ...]:
    """What the index compares: key information, the status number, guardians and household register (R14)."""
    return (state.identity, state.status_number, state.basic.guardian_names(), state.basic.household_register)


def identity_change(before: StudentStatus | None, after: StudentStatus) -> BaseModel | None:
    """The one identity message this change calls for, if any."""
    if not _indexed(before) and _indexed(after):
        return _identity(after, IdentityRecorded)
    if _indexed(before) and not _indexed(after):
        cause = after.closure.cause.value if after.closure else after.state.value
        return IdentityRemoved(student_id=after.student_id, record_version=after.version, reason=cause)
    if before is None or not _indexed(after):
        return None  # still not compared against (pending review), or already gone
    if _evidence(before) != _evidence(after):
        return _identity(after, IdentityChanged)
    return None


def identity_messages(province: str, before: StudentStatus | None, after: StudentStatus) -> list[Outgoing]:
    payload = identity_change(before, after)
    if payload is None:
        return []
    message = envelop(payload, producer="registry", province=province, occurred_at=datetime.now(UTC))
    return [Outgoing(REGISTRY_IDENTITY.name, after.student_id, message)]


def refusal_messages(
    province: str, person: PersonFacts, rule: str, reason: str, correlation: uuid.UUID
) -> list[Outgoing]:
    """A creation dedupe answered "unique" or "possible duplicate", refused here for another rule (R02): the record
    never existed. Without this, dedupe held the child until its hold lapsed, and the corrected request right after
    was refused as a duplicate of the refused one (R01)."""
    payload = IdentityRefused(**person, rule=rule, reason=reason)
    message = envelop(
        payload, producer="registry", province=province, occurred_at=datetime.now(UTC), correlation_id=correlation
    )
    return [Outgoing(REGISTRY_IDENTITY.name, payload.student_id, message)]

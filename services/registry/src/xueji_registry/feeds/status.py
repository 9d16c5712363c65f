"""The public status feed's outgoing messages (R52): one per change on student.status.v1 and the student's latest
status on the compacted student.status.snapshot.v1, both in the commit that records the change, so the relay
publishes them at least once and in the student's order."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from pydantic import BaseModel

from xueji_contracts.envelope import envelop
from xueji_contracts.topics import STUDENT_STATUS, STUDENT_STATUS_SNAPSHOT, TopicSpec
from xueji_kit.outbox_entries import Outgoing
from xueji_kit.runtime import ServiceRuntime
from xueji_registry.domain.public_changes import PublicChange
from xueji_registry.domain.public_feed import change_message, snapshot_message


def _outgoing(
    runtime: ServiceRuntime, topic: TopicSpec, key: str, payload: BaseModel, correlation_id: uuid.UUID | None
) -> Outgoing:
    message = envelop(
        payload,
        producer="registry",
        province=runtime.settings.province,
        occurred_at=datetime.now(UTC),
        correlation_id=correlation_id,
    )
    return Outgoing(topic.name, key, message)


def status_messages(
    runtime: ServiceRuntime, changes: list[PublicChange], correlation_id: uuid.UUID | None
) -> list[Outgoing]:
    """Each change, then the snapshot as of the last one (a commit's earlier states are superseded at once)."""
    out = [_outgoing(runtime, STUDENT_STATUS, c.after.student_id, change_message(c), correlation_id) for c in changes]
    if changes:
        last = changes[-1]
        snapshot = snapshot_message(last)
        out.append(_outgoing(runtime, STUDENT_STATUS_SNAPSHOT, last.after.student_id, snapshot, correlation_id))
    return out

"""Payload on every `<topic>.dlq`: the message that could not be handled and why."""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, ConfigDict


class DeadLetter(BaseModel):
    """The original bytes are kept as text so the message can be inspected and replayed unchanged."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    original_topic: str
    partition: int
    offset: int
    key: str | None
    consumer_group: str | None
    error_type: str
    reason: str
    attempts: int
    failed_at: AwareDatetime
    body: str

"""The message envelope every xueji message travels in (ARCHITECTURE.md, "Messages")."""

from __future__ import annotations

import functools
import uuid
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar, cast

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

P = TypeVar("P", bound=BaseModel)

# Namespace for ids derived from other ids: a redelivered message derives the same id,
# so the store's unique index turns the second delivery into a no-op.
XUEJI_NAMESPACE = uuid.UUID("6f1f7c5e-3b0a-5d2e-9a57-3c1f0e2b8d41")

PROVINCE_PATTERN = r"^[1-8][0-9]$"
# The major version of the contracts this code reads and writes. Changes within it are additive (new optional
# fields, new message types); a consumer dead-letters a message of a major version it does not read.
SCHEMA_MAJOR = 1


def derive_id(*parts: object) -> uuid.UUID:
    """A deterministic UUID from its parts (e.g. the consumed message id and the handler name)."""
    return uuid.uuid5(XUEJI_NAMESPACE, "|".join(str(p) for p in parts))


class Envelope(BaseModel, Generic[P]):
    """Metadata around one payload; `type` names the payload model."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    message_id: uuid.UUID
    type: str = Field(min_length=1, max_length=100)
    occurred_at: AwareDatetime
    producer: str = Field(min_length=1, max_length=50)
    province: str = Field(pattern=PROVINCE_PATTERN, description="2-digit province division code, e.g. 35")
    correlation_id: uuid.UUID
    causation_id: uuid.UUID | None = None
    schema_version: int = Field(default=SCHEMA_MAJOR, ge=1)
    payload: P

    @field_validator("occurred_at")
    @classmethod
    def _in_utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)


def envelop(
    payload: P,
    *,
    producer: str,
    province: str,
    occurred_at: datetime,
    correlation_id: uuid.UUID | None = None,
    causation: Envelope[Any] | None = None,
    message_id: uuid.UUID | None = None,
) -> Envelope[P]:
    """Wrap a payload; a message caused by another inherits its correlation id."""
    if causation is not None and correlation_id is None:
        correlation_id = causation.correlation_id
    return _envelope_of(type(payload))(
        message_id=message_id or uuid.uuid4(),
        type=type(payload).__name__,
        occurred_at=occurred_at,
        producer=producer,
        province=province,
        correlation_id=correlation_id or uuid.uuid4(),
        causation_id=causation.message_id if causation is not None else None,
        payload=payload,
    )


@functools.cache
def _envelope_of(payload: type[P]) -> type[Envelope[P]]:
    """The envelope parametrized by the payload's own class, so it serializes as that class, not as BaseModel. Made
    once per class: pydantic's own cache of parametrized models is looked up by a key it builds on every call (a
    twentieth of dedupe's CPU in a bulk import, where every check answers with an envelope)."""
    return cast(type[Envelope[P]], Envelope[payload])  # type: ignore[valid-type]

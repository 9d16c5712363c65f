"""What every consumer does with a message its contracts do not describe: one policy for every topic.

Contracts are additive within a major `schema_version` (docs/reliability.md): a message of a type this consumer's
contracts do not know (a newer producer's) is skipped, logged and counted in `xueji_messages_skipped_total{topic,
reason="unknown_type"}`; a message of a major version this consumer does not read is dead-lettered
(UnsupportedSchemaVersion). Judged on the raw envelope before the handler's typed parsing, by the dead-letter
middleware for single messages and by the batch decoder for each message of a batch.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from typing import Any

import structlog
from pydantic import BaseModel, ConfigDict, Field

from xueji_contracts.catalog import message_types
from xueji_contracts.envelope import SCHEMA_MAJOR
from xueji_kit.metrics import MESSAGES_CONSUMED, MESSAGES_SKIPPED

log = structlog.get_logger("consumer")
UNKNOWN_TYPE = "unknown_type"
_known: set[str] = set(message_types())


class _EnvelopeHead(BaseModel):
    """What every message must be to be judged at all: an envelope with an id, a type and a payload object."""

    model_config = ConfigDict(extra="allow")

    message_id: uuid.UUID
    type: str = Field(min_length=1)
    payload: dict[str, Any]


class UnsupportedSchemaVersion(ValueError):
    """A major version this consumer does not read (permanent: dead-lettered at once)."""


def know(names: Iterable[str]) -> None:
    """Types a service publishes beyond the shared contracts (its own internal topics) are known too."""
    _known.update(names)


def judge(raw: bytes, *, envelope_required: bool = True) -> str | None:
    """None to handle the message, or the reason to skip it; raises UnsupportedSchemaVersion for a major version this
    consumer does not read, and ValidationError for JSON that is not an envelope (both dead-lettered). Bytes that are
    not JSON are left to the handler, which says why. A batch decoder, whose parsing refuses a non-envelope anyway,
    passes `envelope_required=False`."""
    try:
        envelope = json.loads(raw)
    except ValueError:  # also UnicodeDecodeError
        return None
    if not isinstance(envelope, dict):
        envelope = {"payload": envelope}  # refused below as what it is not
    version = envelope.get("schema_version", SCHEMA_MAJOR)
    if isinstance(version, int) and not isinstance(version, bool) and version > SCHEMA_MAJOR:
        raise UnsupportedSchemaVersion(f"schema_version {version}: this consumer reads {SCHEMA_MAJOR}")
    if not envelope_required and not isinstance(envelope.get("type"), str):
        return None
    kind = _EnvelopeHead.model_validate(envelope).type if envelope_required else envelope["type"]
    if kind not in _known:
        return UNKNOWN_TYPE
    return None


def skipped(topic: str, reason: str, offset: int | None) -> None:
    MESSAGES_SKIPPED.labels(topic, reason).inc()
    MESSAGES_CONSUMED.labels(topic, "skipped").inc()
    log.info("message_skipped", topic=topic, offset=offset, reason=reason)

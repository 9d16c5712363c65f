"""What every consumer does with a message its contracts do not describe: one policy for every topic.

Contracts are additive within a major `schema_version` (docs/reliability.md): a message of a type this consumer's
contracts do not know (a newer producer's) is skipped, logged and counted in `xueji_messages_skipped_total{topic,
reason="unknown_type"}`; a message of a major version this consumer does not read is dead-lettered
(UnsupportedSchemaVersion). Judged on the raw envelope before the handler's typed parsing, by the dead-letter
middleware for single messages and by the batch decoder for each message of a batch.

Fields a known type and version carries that this consumer's contracts do not (a newer producer's new optional
field, in the envelope or anywhere in the payload) are ignored on the way in: `ignore_unknown_fields` drops them,
counted in `xueji_message_fields_ignored_total{topic,type}`, before the handler's typed parsing. The models stay
strict (`extra="forbid"`): what a service produces and what an HTTP body may carry are checked as before; only an
inbound message is read leniently, and its dead letter (if it fails for another reason) keeps the original bytes.
"""

from __future__ import annotations

import json
import types
import typing
import uuid
from collections.abc import Iterable
from typing import Any

import structlog
from pydantic import BaseModel, ConfigDict, Field

from xueji_contracts.catalog import message_models
from xueji_contracts.envelope import SCHEMA_MAJOR, Envelope
from xueji_kit.metrics import FIELDS_IGNORED, MESSAGES_CONSUMED, MESSAGES_SKIPPED

log = structlog.get_logger("consumer")
UNKNOWN_TYPE = "unknown_type"
_models: dict[str, type[BaseModel] | None] = dict(message_models())
_known = _models.keys()


class _EnvelopeHead(BaseModel):
    """What every message must be to be judged at all: an envelope with an id, a type and a payload object."""

    model_config = ConfigDict(extra="allow")

    message_id: uuid.UUID
    type: str = Field(min_length=1)
    payload: dict[str, Any]


class UnsupportedSchemaVersion(ValueError):
    """A major version this consumer does not read (permanent: dead-lettered at once)."""


def know(models: Iterable[type[BaseModel]]) -> None:
    """Types a service publishes beyond the shared contracts (its own internal topics) are known too."""
    for model in models:
        _models.setdefault(model.__name__, model)


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


def read_as_it_is(parsed: object) -> bool:
    """True when `parsed`, a consumer's strict parse of a message, leaves this policy nothing to do: an envelope of a
    major version this consumer reads whose payload is its type's own contract model. Its type is known and, the
    models being as strict as the contract, it carries no field to drop; so a batch decoder reads such a message once
    instead of also judging it and walking it for unknown fields first (issue 19: that was three quarters of the
    decoder's CPU)."""
    if not isinstance(parsed, Envelope):
        return False
    model = _models.get(parsed.type)
    return model is not None and type(parsed.payload) is model and parsed.schema_version <= SCHEMA_MAJOR


def skipped(topic: str, reason: str, offset: int | None) -> None:
    MESSAGES_SKIPPED.labels(topic, reason).inc()
    MESSAGES_CONSUMED.labels(topic, "skipped").inc()
    log.info("message_skipped", topic=topic, offset=offset, reason=reason)


def ignore_unknown_fields(raw: bytes, topic: str) -> bytes:
    """The message without the fields its known type's contract does not describe (envelope and payload, at any
    depth), each dropped field counted; the bytes as they are when there is nothing to drop or the message is not
    a known, readable envelope (the handler's parsing then says what is wrong with it)."""
    try:
        envelope = json.loads(raw)
    except ValueError:
        return raw
    if not isinstance(envelope, dict) or not isinstance(kind := envelope.get("type"), str):
        return raw
    if (model := _models.get(kind)) is None:
        return raw
    dropped = _drop_unknown(envelope, Envelope[model])  # type: ignore[valid-type]
    if not dropped:
        return raw
    FIELDS_IGNORED.labels(topic, kind).inc(dropped)
    log.info("message_fields_ignored", topic=topic, type=kind, fields=dropped)
    return json.dumps(envelope).encode()


def _drop_unknown(value: Any, annotation: Any) -> int:
    """Remove, in place, the keys of `value` that `annotation` does not describe; how many were removed."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _drop_unknown(value, typing.get_args(annotation)[0])
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _drop_from_model(value, annotation) if isinstance(value, dict) else 0
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
        if len(models) == 1:
            return _drop_unknown(value, models[0])
        return 0  # several models could be meant: left to the handler's parsing, as strict as before
    if isinstance(value, list) and args:
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            return sum(_drop_unknown(v, a) for v, a in zip(value, args, strict=False))
        return sum(_drop_unknown(v, args[0]) for v in value)
    if isinstance(value, dict) and origin is dict and len(args) == 2:
        return sum(_drop_unknown(v, args[1]) for v in value.values())
    return 0


def _drop_from_model(value: dict[str, Any], model: type[BaseModel]) -> int:
    fields = model.model_fields
    names = {alias for name, f in fields.items() for alias in (name, f.alias) if alias}
    dropped = 0
    if model.model_config.get("extra") == "forbid":  # "ignore" and "allow" models already take unknown fields
        for key in [k for k in value if k not in names]:
            del value[key]
            dropped += 1
    by_key = {alias: f for name, f in fields.items() for alias in (name, f.alias) if alias}
    return dropped + sum(_drop_unknown(value[key], by_key[key].annotation) for key in value if key in by_key)

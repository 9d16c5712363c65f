"""Consuming a topic in batches: many messages per store round trip, each message still judged on its own.

A batch subscriber (`batch=True`, `decoder=raw_records`) receives the Kafka records themselves; `parse_each` turns
them into messages and sends each one that does not parse to `<topic>.dlq` with its reason, alone, so one malformed
message never holds up or dead-letters the good ones beside it. A failure after parsing (the store away, a bug) is
the whole batch's and goes to the dead-letter middleware's retries; batch handlers are idempotent per message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from xueji_kit.deadletter import PERMANENT, dead_letter

T = TypeVar("T")


async def raw_records(msg: Any, original: Any = None) -> Any:
    """Decoder for a batch subscriber: hand the handler the consumed records (topic, key, offset, value)."""
    raw = msg.raw_message
    return list(raw) if isinstance(raw, tuple | list) else [raw]


async def parse_each(broker: Any, records: list[Any], parse: Callable[[bytes], T]) -> list[T]:
    """Every record that parses, in order; each that does not is dead-lettered with the reason."""
    parsed: list[T] = []
    for record in records:
        try:
            parsed.append(parse(record.value or b""))
        except PERMANENT as exc:
            await dead_letter(broker, record, record.topic, exc)
    return parsed

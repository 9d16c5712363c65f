"""Consuming a topic in batches: many messages per store round trip, each message still judged on its own.

A batch subscriber gets `decoder=parsed(parse)`: the decoder parses every record of the batch by itself, hands the
handler the messages that parse (typed, so the AsyncAPI document shows the topic's real payload) and keeps those
that do not on the message; the handler first calls `dead_letter_rejected`, which sends each of them to
`<topic>.dlq` with its reason, alone, so one malformed message never holds up or dead-letters the good ones beside
it. A failure after parsing (the store away, a bug) is the whole batch's and goes to the dead-letter middleware's
retries; batch handlers are idempotent per message.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from xueji_kit.deadletter import PERMANENT, dead_letter

T = TypeVar("T")


def records_of(msg: Any) -> list[Any]:
    """The Kafka records (topic, key, offset, value) of a consumed batch, or of a single message."""
    raw = msg.raw_message
    return list(raw) if isinstance(raw, tuple | list) else [raw]


def parsed(parse: Callable[[bytes], T]) -> Callable[..., Awaitable[list[T]]]:
    """A batch decoder: every record that parses, in order; the others kept on the message as `rejected`."""

    async def decode(msg: Any, original: Any = None) -> list[T]:
        good: list[T] = []
        rejected: list[tuple[Any, BaseException]] = []
        for record in records_of(msg):
            try:
                good.append(parse(record.value or b""))
            except PERMANENT as exc:
                rejected.append((record, exc))
        msg.rejected = rejected
        return good

    return decode


async def dead_letter_rejected(broker: Any, message: Any) -> None:
    """Dead-letter, each with its reason, the records of this batch that did not parse."""
    for record, exc in getattr(message, "rejected", []):
        await dead_letter(broker, record, record.topic, exc)

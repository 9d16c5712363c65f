"""Consuming a topic in batches: many messages per store round trip, each message still judged on its own.

A batch subscriber gets `decoder=parsed(parse)`: the decoder parses every record of the batch by itself, hands the
handler the messages that parse (typed, so the AsyncAPI document shows the topic's real payload) and keeps those
that do not on the message. The handler passes its work to `handle_batch`, which first sends each record that did
not parse to `<topic>.dlq` with its reason, alone, then handles the rest together; if that fails (not a store
outage), one message at a time, so only the message that fails is dead-lettered, not the good ones beside it.
A store outage goes to the dead-letter middleware, which waits it out; batch handlers are idempotent per message.

Most batch consumers only hand the batch to one method of their service object: `batch_handler` writes that handler.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, TypeVar

import structlog
from faststream import Context

from xueji_kit.contract_policy import ignore_unknown_fields, judge, read_as_it_is, skipped
from xueji_kit.deadletter import PERMANENT, check_headers, dead_letter, group_of, records_of
from xueji_kit.store import store_away

T = TypeVar("T")
log = structlog.get_logger("consumer")
ATTEMPTS = 3  # per message, when a failed batch is handled one message at a time


def parsed(parse: Callable[[bytes], T]) -> Callable[..., Awaitable[list[T]]]:
    """A batch decoder: every record that parses, in order; the others kept on the message as `rejected`."""

    async def decode(msg: Any, original: Any = None) -> list[T]:
        good: list[T] = []
        kept: list[Any] = []
        rejected: list[tuple[Any, BaseException]] = []
        for record in records_of(msg):
            try:
                check_headers(record)
                item = _read(parse, record)
            except PERMANENT as exc:
                rejected.append((record, exc))
                continue
            if item is not None:
                good.append(item[0])
                kept.append(record)
        msg.rejected, msg.parsed_records = rejected, kept
        return good

    return decode


def _read(parse: Callable[[bytes], T], record: Any) -> tuple[T] | None:
    """One record as the handler takes it (None: skipped by the contract policy). A current producer's message is
    parsed once, as it is; any other (a newer producer's fields or type, another major version, a malformed one) goes
    through the contract policy first, exactly as before, so the outcome is the same either way."""
    raw = record.value or b""
    try:
        item = parse(raw)
    except Exception:  # noqa: S110 - judged and parsed again below, where its error (if any) is raised
        pass
    else:
        if read_as_it_is(item):
            return (item,)
    if (reason := judge(raw, envelope_required=False)) is not None:
        skipped(record.topic, reason, record.offset)  # the contract policy: not a message for us
        return None
    return (parse(ignore_unknown_fields(raw, record.topic)),)


async def dead_letter_rejected(broker: Any, message: Any) -> None:
    """Dead-letter, each with its reason, the records of this batch that did not parse (once: a retry of the
    batch after a store outage does not send them again; one whose letter could not be written is sent again)."""
    rejected = getattr(message, "rejected", [])
    while rejected:
        record, exc = rejected[0]
        await dead_letter(broker, record, record.topic, exc, 1, group_of(message))
        rejected.pop(0)


async def handle_batch(
    broker: Any, message: Any, items: list[T], handle: Callable[[list[T]], Awaitable[None]], backoff: float = 0.2
) -> None:
    """Dead-letter the batch's records that did not parse, then `handle(items)`; when that fails (not a store
    outage), each item alone, a few attempts each, and an item that still fails is dead-lettered with its reason
    while the others are handled."""
    await dead_letter_rejected(broker, message)
    try:
        await handle(items)
        return
    except Exception as exc:
        if store_away(exc) or len(items) <= 1:
            raise  # the dead-letter middleware retries and dead-letters it
        log.warning("batch_failed_handling_one_by_one", size=len(items), error=str(exc))
    for item, record in zip(items, getattr(message, "parsed_records", []), strict=True):
        for attempt in range(1, ATTEMPTS + 1):
            try:
                await handle([item])
                break
            except Exception as exc:
                if store_away(exc):
                    raise
                if isinstance(exc, PERMANENT) or attempt == ATTEMPTS:
                    await dead_letter(broker, record, record.topic, exc, attempt, group_of(message))
                    break
                await asyncio.sleep(backoff * 2 ** (attempt - 1))


def batch_handler(
    item: Any, context: str, work: Callable[[Any, list[Any]], Awaitable[None]], *, name: str
) -> Callable[..., Awaitable[None]]:
    """The handler of a batch subscriber whose work is `work(<the object set as context global `context`>, items)`,
    e.g. `batch_handler(Envelope[CheckRequested], "dedupe", DedupeService.answer_checks, name="on_checks")`: the
    items are handled through `handle_batch`. `item` is what each message is, so the AsyncAPI document shows it."""

    async def handler(
        items: Any, service: Any = Context(context), broker: Any = Context("broker"), message: Any = Context("message")
    ) -> None:
        await handle_batch(broker, message, items, partial(work, service))

    # FastStream reads the payload type from the annotations; the other parameters come from its context.
    handler.__annotations__ = {"items": list[item], "service": Any, "broker": Any, "message": Any, "return": None}
    handler.__name__ = handler.__qualname__ = name
    return handler

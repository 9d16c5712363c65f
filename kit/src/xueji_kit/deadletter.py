"""Consumer error policy: a malformed message goes to `<topic>.dlq` with the reason, a failing one is
retried a few times first, a store outage is waited out; the consumer itself keeps running.

A dead letter keeps the original record exactly (value and key base64, headers, topic, partition, offset, consumer
group), split into parts that each fit the broker (contracts DeadLetter). Its offset is committed only after every
part is acknowledged: consumers run with `AckPolicy.NACK_ON_ERROR` (ServiceRuntime.subscriber), a handled or
dead-lettered message is committed behind the messages before it (commits.settle), and a letter that could not be
written raises, so the message is consumed again instead of being skipped.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import structlog
from faststream.middlewares import BaseMiddleware
from pydantic import ValidationError

from xueji_contracts.messages.deadletter import BODY_PREVIEW, PART_BYTES, DeadLetter, DeadLetterHeader
from xueji_contracts.topics import dlq
from xueji_kit.commits import settle
from xueji_kit.contract_policy import ignore_unknown_fields, judge, skipped
from xueji_kit.logs import bind_correlation
from xueji_kit.metrics import DEAD_LETTERS, HANDLER_SECONDS, MESSAGES_CONSUMED
from xueji_kit.store import store_away

log = structlog.get_logger("consumer")

# Retrying these cannot help: the message itself is wrong.
PERMANENT = (ValidationError, json.JSONDecodeError, UnicodeDecodeError, ValueError, KeyError, TypeError)
LETTER_RETRY_SECONDS = 1.0  # before the message is consumed again when its letter could not be written


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ValidationError):
        found = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '<message>'}: {e['msg']}" for e in exc.errors()[:10])
    else:
        found = str(exc) or type(exc).__name__
    return found[:2000]


def make_dead_letter_middleware(retries: int, backoff: float = 0.2) -> type[BaseMiddleware]:
    class DeadLetterMiddleware(BaseMiddleware):
        async def consume_scope(self, call_next: Any, msg: Any) -> Any:
            result = await self._handle(call_next, msg)
            await settle(msg)  # handled or dead-lettered: its offset is committed behind the messages before it
            return result

        async def _handle(self, call_next: Any, msg: Any) -> Any:
            records = records_of(msg)  # a batch subscriber's message is many records: dead-letter each of them
            topic = getattr(records[0], "topic", "unknown") if records else "unknown"
            # Every log line while handling this message carries its correlation id.
            bind_correlation(str(getattr(msg, "correlation_id", "") or ""))
            # A batch's messages are judged by its decoder; a dead-letter topic carries letters, not envelopes.
            if not isinstance(msg.raw_message, tuple | list) and not topic.endswith(".dlq"):
                if (malformed := getattr(msg, "malformed_headers", None)) is not None:
                    return await self._dead_letter(msg, records, topic, malformed, 1)
                try:
                    if (reason := judge(records[0].value or b"")) is not None:
                        return skipped(topic, reason, records[0].offset)
                except PERMANENT as exc:
                    return await self._dead_letter(msg, records, topic, exc, 1)
                # Additive contracts: a newer producer's fields are passed over (a letter keeps the original bytes).
                raw = records[0].value or b""
                if (known := ignore_unknown_fields(raw, topic)) is not raw:
                    msg.body = known
                    msg.clear_cache()
            attempts = 0
            while True:
                attempts += 1
                try:
                    with HANDLER_SECONDS.labels(topic).time():
                        result = await call_next(msg)
                    MESSAGES_CONSUMED.labels(topic, "ok").inc()
                    return result
                except Exception as exc:
                    if store_away(exc):  # also out of time: wait for the store rather than dead-letter good messages
                        log.warning("store_unavailable_retrying", topic=topic, error=str(exc))
                        await asyncio.sleep(min(backoff * 2**attempts, 10.0))
                        attempts = 0
                        continue
                    if isinstance(exc, PERMANENT) or attempts > retries:
                        return await self._dead_letter(msg, records, topic, exc, attempts)
                    log.warning("handler_failed_retrying", topic=topic, attempt=attempts, error=str(exc))
                    await asyncio.sleep(backoff * 2 ** (attempts - 1))

        async def _dead_letter(self, msg: Any, records: list[Any], topic: str, exc: BaseException, n: int) -> None:
            try:
                for record in records:
                    await dead_letter(self.context.get("broker"), record, topic, exc, n, group_of(msg))
            except Exception as failed:
                # Not written: the offset must not move past it. Raising nacks the message, which is consumed
                # again (and its letter written then); a short pause keeps a refusing broker from a hot loop.
                failure = str(failed) or type(failed).__name__
                log.error("dead_letter_not_written", topic=topic, reason=_reason(exc), error=failure)
                await asyncio.sleep(LETTER_RETRY_SECONDS)
                raise

    return DeadLetterMiddleware


async def parse_leniently(message: Any, original: Any) -> Any:
    """A subscriber's parser: the broker's own, except that a record whose headers are not UTF-8 (which the broker's
    parser cannot read) is parsed with readable stand-ins and keeps its original bytes, marked `malformed_headers` so
    it is dead-lettered whole instead of failing the consumer before any handler sees it (check_headers for a batch)."""
    try:
        return await original(message)
    except UnicodeDecodeError as exc:
        batch = isinstance(message, tuple)
        readable = tuple(_readable(r) for r in (message if batch else (message,)))
        parsed = await original(readable if batch else readable[0])
        parsed.raw_message, parsed.malformed_headers = message, exc
        return parsed


def check_headers(record: Any) -> None:
    """Raise UnicodeDecodeError when a record's headers are not text (a batch decoder rejects that record alone)."""
    for _, value in getattr(record, "headers", None) or ():
        (value or b"").decode()


def _readable(record: Any) -> Any:
    headers = [(k, (v or b"").decode(errors="replace").encode()) for k, v in (getattr(record, "headers", None) or ())]
    return dataclasses.replace(record, headers=headers)


def group_of(msg: Any) -> str | None:
    """The consumer group a consumed message was read in (None for a consumer without one)."""
    group = getattr(getattr(msg, "consumer", None), "_group_id", None)  # aiokafka keeps it only there
    return group if isinstance(group, str) else None


def letters_of(
    record: Any, topic: str, exc: BaseException, attempts: int = 1, group: str | None = None
) -> list[DeadLetter]:
    """The letters of one consumed record: its exact bytes in parts that each fit the broker."""
    raw: bytes = record.value or b""
    key: bytes | None = record.key
    chunks = [raw[i : i + PART_BYTES] for i in range(0, len(raw), PART_BYTES)] or [b""]
    headers = [
        DeadLetterHeader(key=k, value_base64=_b64(v or b"")) for k, v in (getattr(record, "headers", None) or ())
    ]
    common: dict[str, Any] = {
        "original_topic": topic, "partition": record.partition, "offset": record.offset,
        "key": key.decode(errors="replace") if key is not None else None,
        "key_base64": _b64(key) if key is not None else None, "consumer_group": group,
        "error_type": type(exc).__name__, "reason": _reason(exc), "attempts": attempts, "failed_at": datetime.now(UTC),
        "size": len(raw), "sha256": hashlib.sha256(raw).hexdigest(), "parts": len(chunks),
    }  # fmt: skip
    letters = [DeadLetter(**common, part=part, value_base64=_b64(chunk), body="") for part, chunk in enumerate(chunks)]
    first = letters[0].model_copy(update={"body": raw[:BODY_PREVIEW].decode(errors="replace"), "headers": headers})
    return [first, *letters[1:]]


async def dead_letter(
    broker: Any, record: Any, topic: str, exc: BaseException, attempts: int = 1, group: str | None = None
) -> None:
    """Send one consumed record to `<topic>.dlq` with the reason (also for one bad message inside a batch); returns
    once the broker acknowledged every part, raises when it did not."""
    letters = letters_of(record, topic, exc, attempts, group)
    for letter in letters:
        await broker.publish(letter.model_dump(mode="json"), dlq(topic), key=record.key)
    DEAD_LETTERS.labels(topic, type(exc).__name__).inc()
    MESSAGES_CONSUMED.labels(topic, "dead_letter").inc()
    log.error("message_dead_lettered", topic=topic, offset=record.offset, parts=len(letters), reason=letters[0].reason)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def records_of(msg: Any) -> list[Any]:
    """The Kafka records (topic, key, offset, value) of a consumed batch, or of a single message."""
    raw = msg.raw_message
    return list(raw) if isinstance(raw, tuple | list) else [raw]

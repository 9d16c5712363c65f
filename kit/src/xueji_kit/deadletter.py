"""Consumer error policy: a malformed message goes to `<topic>.dlq` with the reason, a failing one is
retried a few times first, a store outage is waited out; the consumer itself keeps running."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import structlog
from faststream.middlewares import BaseMiddleware
from pydantic import ValidationError
from pymongo.errors import ConnectionFailure, ServerSelectionTimeoutError

from xueji_contracts.messages.deadletter import DeadLetter
from xueji_contracts.topics import dlq
from xueji_kit.logs import bind_correlation
from xueji_kit.metrics import DEAD_LETTERS, HANDLER_SECONDS, MESSAGES_CONSUMED

log = structlog.get_logger("consumer")

# Retrying these cannot help: the message itself is wrong.
PERMANENT = (ValidationError, json.JSONDecodeError, UnicodeDecodeError, ValueError, KeyError, TypeError)
# These say the store is away: wait for it rather than dead-letter good messages.
OUTAGE = (ConnectionFailure, ServerSelectionTimeoutError)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '<message>'}: {e['msg']}" for e in exc.errors()[:10])
    return str(exc) or type(exc).__name__


def make_dead_letter_middleware(retries: int, backoff: float = 0.2) -> type[BaseMiddleware]:
    class DeadLetterMiddleware(BaseMiddleware):
        async def consume_scope(self, call_next: Any, msg: Any) -> Any:
            records = records_of(msg)  # a batch subscriber's message is many records: dead-letter each of them
            topic = getattr(records[0], "topic", "unknown") if records else "unknown"
            # Every log line while handling this message carries its correlation id.
            bind_correlation(str(getattr(msg, "correlation_id", "") or ""))
            attempts = 0
            while True:
                attempts += 1
                try:
                    with HANDLER_SECONDS.labels(topic).time():
                        result = await call_next(msg)
                    MESSAGES_CONSUMED.labels(topic, "ok").inc()
                    return result
                except OUTAGE as exc:
                    log.warning("store_unavailable_retrying", topic=topic, error=str(exc))
                    await asyncio.sleep(min(backoff * 2**attempts, 10.0))
                    attempts = 0
                except PERMANENT as exc:
                    return await self._dead_letter(records, topic, exc, attempts)
                except Exception as exc:
                    if attempts > retries:
                        return await self._dead_letter(records, topic, exc, attempts)
                    log.warning("handler_failed_retrying", topic=topic, attempt=attempts, error=str(exc))
                    await asyncio.sleep(backoff * 2 ** (attempts - 1))

        async def _dead_letter(self, records: list[Any], topic: str, exc: BaseException, attempts: int) -> None:
            for record in records:
                await dead_letter(self.context.get("broker"), record, topic, exc, attempts)

    return DeadLetterMiddleware


async def dead_letter(broker: Any, record: Any, topic: str, exc: BaseException, attempts: int = 1) -> None:
    """Send one consumed record to `<topic>.dlq` with the reason (also for one bad message inside a batch)."""
    raw: bytes = record.value or b""
    letter = DeadLetter(
        original_topic=topic,
        partition=record.partition,
        offset=record.offset,
        key=record.key.decode(errors="replace") if record.key else None,
        consumer_group=None,
        error_type=type(exc).__name__,
        reason=_reason(exc),
        attempts=attempts,
        failed_at=datetime.now(UTC),
        body=raw.decode(errors="replace"),
    )
    await broker.publish(letter.model_dump(mode="json"), dlq(topic), key=record.key)
    DEAD_LETTERS.labels(topic, type(exc).__name__).inc()
    MESSAGES_CONSUMED.labels(topic, "dead_letter").inc()
    log.error("message_dead_lettered", topic=topic, offset=record.offset, reason=letter.reason)


def records_of(msg: Any) -> list[Any]:
    """The Kafka records (topic, key, offset, value) of a consumed batch, or of a single message."""
    raw = msg.raw_message
    return list(raw) if isinstance(raw, tuple | list) else [raw]

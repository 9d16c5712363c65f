"""Registry test helpers: dedupe's answers as the stub gives them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from xueji_contracts.messages.dedupe import VerdictGiven, VerdictKind

Answer = Callable[[dict[str, Any]], VerdictGiven | None]


def verdict(kind: VerdictKind, existing: str | None = None, score: float = 0.0) -> Answer:
    """An answer of that kind to any check, as dedupe gives it."""

    def answer(check: dict[str, Any]) -> VerdictGiven:
        return VerdictGiven(
            verdict=kind,
            student_id=check["student_id"],
            score=score,
            existing_student_id=existing,
            reason_zh="测试答复",
            reason_en="test answer",
        )

    return answer


unique = verdict(VerdictKind.UNIQUE)


async def published(bootstrap: str, topic: str, until: Callable[[list[dict[str, Any]]], bool], timeout: float = 20.0):
    """Every message on `topic` from the start, once `until(messages)` holds; fails after `timeout` seconds."""
    import asyncio
    import json

    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    found: list[dict[str, Any]] = []
    try:
        async with asyncio.timeout(timeout):
            while not until(found):
                batches = await consumer.getmany(timeout_ms=300)
                found += [json.loads(r.value) for records in batches.values() for r in records]
    except TimeoutError:
        raise AssertionError(f"{topic}: condition not met in {timeout} s; got {found}") from None
    finally:
        await consumer.stop()
    return found


async def advance_to(compliance: Any, at: Any) -> int:
    """Tick the compliance scheduler at every armed timer's due time up to `at`, as the wall clock would."""
    from datetime import timedelta

    fired = 0
    while True:
        armed = await compliance.store.armed()
        due = sorted(doc["due_at"] for doc in armed if doc["due_at"] <= at)
        if not due:
            break
        fired += await compliance.tick(due[0] + timedelta(seconds=1))
    return fired

"""Crash under load (issue 15): the registry, started as `make run` starts it, is killed with SIGKILL at a random
moment while a class is being enrolled, and started again. Every accepted enrollment ends with exactly one record,
none stays pending, the R07 numbers are gapless, and the consistency checker finds no difference between the
projections (school register, compliance deadlines) and the event streams."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from common import free_port
from stack import start_service, wait_ready

from xueji_contracts.envelope import envelop
from xueji_contracts.messages.dedupe import VerdictGiven, VerdictKind
from xueji_contracts.topics import DEDUPE_CHECK, DEDUPE_VERDICT
from xueji_kit.store import EventStore, connect
from xueji_registry.consistency import differences

pytestmark = pytest.mark.integration
SCHOOL, YEAR, PUPILS = "3506020001", 2026, 60


@contextlib.asynccontextmanager
async def dedupe_answering_unique(isolation: Any) -> AsyncIterator[None]:
    """Stands in for dedupe: every check is answered `unique` (the crash, not the matching, is under test)."""
    kafka = isolation.servers.kafka
    consumer = AIOKafkaConsumer(isolation.topic(DEDUPE_CHECK.name), bootstrap_servers=kafka,
                                group_id=f"{isolation.topic_prefix}stub", auto_offset_reset="earliest")  # fmt: skip
    producer = AIOKafkaProducer(bootstrap_servers=kafka, linger_ms=5)
    await consumer.start()
    await producer.start()

    async def serve() -> None:
        async for record in consumer:
            check = json.loads(record.value)
            verdict = VerdictGiven(verdict=VerdictKind.UNIQUE, student_id=check["payload"]["student_id"], score=0.0,
                                   reason_zh="唯一", reason_en="unique")  # fmt: skip
            message = envelop(verdict, producer="dedupe", province="35", occurred_at=datetime.now(UTC),
                              correlation_id=uuid.UUID(check["correlation_id"]))  # fmt: skip
            await producer.send_and_wait(
                isolation.topic(DEDUPE_VERDICT.name), message.model_dump_json().encode(), key=record.key
            )

    task = asyncio.create_task(serve())
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await consumer.stop()
        await producer.stop()


def _registry(isolation: Any, public_key: str, logs: Path) -> Any:
    env = {"KAFKA_BOOTSTRAP_SERVERS": isolation.servers.kafka, "MONGODB_URI": isolation.servers.mongodb,
           "XUEJI_TOPIC_PREFIX": isolation.topic_prefix, "XUEJI_MONGODB_DATABASE": f"{isolation.database}_registry",
           "XUEJI_JWT_PUBLIC_KEY": public_key, "XUEJI_LOG_FORMAT": "console", "XUEJI_SCHEDULER_ENABLED": "false",
           "XUEJI_RELAY_INTERVAL_SECONDS": "0.05"}  # fmt: skip
    server = start_service("registry", free_port(), env, logs)
    wait_ready([server], timeout=90)
    return server


async def _enroll(client: httpx.AsyncClient, auth: dict[str, str], i: int) -> str | None:
    body = {"school_code": SCHOOL, "name": f"学生{i:03d}", "gender": "female", "birth_date": "2019-04-01",
            "grade": 1, "school_year": YEAR}  # fmt: skip
    with contextlib.suppress(httpx.HTTPError):
        answer = await client.post("/v1/students", json=body, headers=auth, timeout=20)
        if answer.status_code in (201, 202):
            return str(answer.json()["student_id"])
    return None  # not accepted (the process was being killed): the client would retry


async def test_a_registry_killed_while_enrolling_a_class_loses_and_duplicates_nothing(
    isolation: Any, signing_keys: tuple[str, str], token: Any, wait_for: Any, tmp_path: Path
) -> None:
    auth = {"Authorization": f"Bearer {token('school', SCHOOL)}"}
    rng = random.Random()
    accepted: list[str] = []
    async with dedupe_answering_unique(isolation):
        first = _registry(isolation, signing_keys[1], tmp_path / "first")
        try:
            async with httpx.AsyncClient(base_url=first.address) as client:
                kill_after = rng.randrange(PUPILS // 4, PUPILS * 3 // 4)
                for start in range(0, kill_after, 10):
                    found = await asyncio.gather(*(_enroll(client, auth, i) for i in range(start, start + 10)))
                    accepted += [s for s in found if s]
                await asyncio.sleep(rng.uniform(0.0, 1.0))  # somewhere in the verdicts' handling
                first.process.kill()
                first.process.wait(10)
        finally:
            first.stop()
        second = _registry(isolation, signing_keys[1], tmp_path / "second")
        try:
            async with httpx.AsyncClient(base_url=second.address) as client:
                for start in range(len(accepted), PUPILS, 10):
                    found = await asyncio.gather(*(_enroll(client, auth, i) for i in range(start, start + 10)))
                    accepted += [s for s in found if s]
                await wait_for(lambda: _all_enrolled(client, accepted, auth), timeout=120, interval=1.0)
        finally:
            second.stop()

    mongo = connect(isolation.servers.mongodb)
    try:
        events = EventStore(mongo[f"{isolation.database}_registry"])
        numbers = [e["number"] async for c in events.collection.find({"aggregate_id": {"$in": accepted}})
                   for e in c["events"] if e["type"] == "supplementary_number_assigned"]  # fmt: skip
        assert len(numbers) == len(accepted) == len(set(accepted))  # exactly one record and one number each
        assert sorted(int(n[-4:]) for n in numbers) == list(range(1, len(accepted) + 1))  # R07 gapless
        assert await differences(events) == []
    finally:
        await mongo.close()


async def _all_enrolled(client: httpx.AsyncClient, ids: list[str], auth: dict[str, str]) -> bool:
    for student in ids:
        answer = await client.get(f"/v1/students/{student}", headers=auth)
        if answer.status_code != 200 or answer.json().get("state") != "enrolled":
            return False
    return True

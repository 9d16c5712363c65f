"""Crash under load (issue 15): the registry, started as `make run` starts it, is killed with SIGKILL at a random
moment while a class is being enrolled, and started again. Every accepted enrollment ends with exactly one record,
none stays pending, the R07 numbers are gapless, and the consistency checker finds no difference between the
projections (school register, compliance deadlines) and the event streams."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import sys
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from common import free_port
from stack import start_service, wait_ready

sys.path.insert(0, str(Path(__file__).resolve().parent))
import chaos

from xueji_contracts.envelope import envelop
from xueji_contracts.messages.dedupe import VerdictGiven, VerdictKind
from xueji_contracts.topics import DEDUPE_CHECK, DEDUPE_VERDICT
from xueji_kit.event_store import EventStore
from xueji_kit.store import connect
from xueji_registry.consistency import differences

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]
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


def _body(i: int) -> dict[str, Any]:
    return {"school_code": SCHOOL, "name": f"学生{i:03d}", "gender": "female", "birth_date": "2019-04-01",
            "grade": 1, "school_year": YEAR}  # fmt: skip


async def _enroll(
    client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any], errors: list[int]
) -> str | None:
    with contextlib.suppress(httpx.HTTPError):
        answer = await client.post("/v1/students", json=body, headers=headers, timeout=20)
        if answer.status_code >= 500:
            errors.append(answer.status_code)
        if answer.status_code in (201, 202):
            return str(answer.json()["student_id"])
    return None  # not accepted (the process was being killed): the client would retry


async def numbered(events: EventStore, ids: list[str]) -> list[tuple[str, str]]:
    """(student, R07 number) of every number assigned to these students: one each when nothing was duplicated."""
    return [(c["aggregate_id"], e["number"]) async for c in events.every_commit({"aggregate_id": {"$in": ids}})
            for e in c["events"] if e["type"] == "supplementary_number_assigned"]  # fmt: skip


async def numbers_and_differences(isolation: Any, ids: list[str]) -> tuple[list[tuple[str, str]], list[Any]]:
    """After a fault: the R07 numbers of these students and what the registry's consistency checker finds."""
    mongo = connect(isolation.servers.mongodb)
    try:
        events = EventStore(mongo[f"{isolation.database}_registry"])
        return await numbered(events, ids), await differences(events)
    finally:
        await mongo.close()


async def test_a_registry_killed_while_enrolling_a_class_loses_and_duplicates_nothing(
    isolation: Any, signing_keys: tuple[str, str], token: Any, wait_for: Any, tmp_path: Path
) -> None:
    auth = {"Authorization": f"Bearer {token('school', SCHOOL)}"}
    rng = random.Random()
    pupils, rounds = chaos.load(PUPILS), chaos.rounds()
    accepted: list[str] = []
    errors: list[int] = []
    enrolled = kills = 0  # pupils asked for so far
    recovery = 0.0
    async with dedupe_answering_unique(isolation):
        server = _registry(isolation, signing_keys[1], tmp_path / "start")
        for round_ in range(rounds + 1):
            last = round_ == rounds
            left = pupils - enrolled
            stop = (
                pupils if last else enrolled + rng.randrange(max(1, left // (2 * (rounds - round_) + 2)), left // 2 + 2)
            )
            try:
                async with httpx.AsyncClient(base_url=server.address) as client:
                    for start in range(enrolled, min(stop, pupils), 10):
                        asked = range(start, min(start + 10, stop, pupils))
                        found = await asyncio.gather(*(_enroll(client, auth, _body(i), errors) for i in asked))
                        accepted += [s for s in found if s]
                    enrolled = min(stop, pupils)
                    if last:
                        await wait_for(partial(_all_enrolled, client, list(accepted), auth), timeout=120, interval=1.0)
                    else:
                        await asyncio.sleep(rng.uniform(0.0, 1.0))  # somewhere in the verdicts' handling
                        server.process.kill()
                        server.process.wait(10)
                        killed, kills = time.monotonic(), kills + 1
            finally:
                server.stop()
            if not last:
                server = _registry(isolation, signing_keys[1], tmp_path / f"round{round_}")
                recovery = max(recovery, time.monotonic() - killed)

    numbers, found = await numbers_and_differences(isolation, accepted)
    ids = {student for student, _ in numbers}
    chaos.record("registry_crash_under_load", requests=enrolled, kills=kills, lost=len(set(accepted) - ids),
                 duplicated=len(numbers) - len(ids) + len(accepted) - len(set(accepted)),
                 projection_differences=len(found), http_5xx=len(errors), recovery_s=recovery)  # fmt: skip
    assert len(numbers) == len(accepted) == len(set(accepted)) == len(ids)  # exactly one record and one number each
    assert sorted(int(n[-4:]) for _, n in numbers) == list(range(1, len(accepted) + 1))  # R07 gapless
    assert found == []
    assert errors == []


async def _all_enrolled(client: httpx.AsyncClient, ids: list[str], auth: dict[str, str]) -> bool:
    for student in ids:
        answer = await client.get(f"/v1/students/{student}", headers=auth)
        if answer.status_code != 200 or answer.json().get("state") != "enrolled":
            return False
    return True

"""A broker outage under load (issue 15): the registry, started as `make run` starts it, keeps taking enrollments
while its Kafka broker is killed with SIGKILL for 20 s and then started again in place (same data, same ports).
Every request answers 201/202, or 503 with Retry-After (then the client retries with the same Idempotency-Key);
after recovery, without help, every accepted enrollment is enrolled with exactly one record and one R07 number, and
the consistency checker finds no difference. The test's broker is its own, so the session's broker is never touched."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import kafka_server
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from common import free_port

sys.path.insert(0, str(Path(__file__).resolve().parent))
import chaos
from faults import KilledInPlace

from xueji_contracts.envelope import envelop
from xueji_contracts.messages.dedupe import VerdictGiven, VerdictKind
from xueji_contracts.topics import DEDUPE_CHECK, DEDUPE_VERDICT, all_topic_names
from xueji_kit.settings import ServiceSettings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]
SCHOOL, YEAR, OUTAGE_S = "3506020001", 2026, 20.0
BEFORE, DURING, AFTER = 10, 20, 10  # enrollments asked for before, during and after the outage (`make test`)


@contextlib.asynccontextmanager
async def dedupe_answering_unique(env: Any) -> AsyncIterator[None]:
    """Stands in for dedupe (every check answered `unique`), and like a real consumer rides out the outage: a
    failed consume or send starts it again; a verdict sent twice is a redelivery the registry must absorb."""

    async def serve() -> None:
        while True:
            # Waiting for the broker as long as dedupe does (the kit's default request timeout).
            timeout = round(ServiceSettings().kafka_request_timeout_seconds * 1000)
            consumer = AIOKafkaConsumer(env.topic(DEDUPE_CHECK.name), bootstrap_servers=env.servers.kafka,
                                        group_id=f"{env.topic_prefix}stub", auto_offset_reset="earliest",
                                        enable_auto_commit=False, request_timeout_ms=timeout)  # fmt: skip
            producer = AIOKafkaProducer(bootstrap_servers=env.servers.kafka, linger_ms=5, request_timeout_ms=timeout)
            try:
                await consumer.start()
                await producer.start()
                async for record in consumer:
                    check = json.loads(record.value)
                    verdict = VerdictGiven(verdict=VerdictKind.UNIQUE, student_id=check["payload"]["student_id"],
                                           score=0.0, reason_zh="唯一", reason_en="unique")  # fmt: skip
                    message = envelop(verdict, producer="dedupe", province="35", occurred_at=datetime.now(UTC),
                                      correlation_id=uuid.UUID(check["correlation_id"]))  # fmt: skip
                    await producer.send_and_wait(
                        env.topic(DEDUPE_VERDICT.name), message.model_dump_json().encode(), key=record.key
                    )
                    await consumer.commit()
            except asyncio.CancelledError:
                raise
            except Exception:  # the broker is away: start again once it may be back
                await asyncio.sleep(1.0)
            finally:
                with contextlib.suppress(Exception):
                    await consumer.stop()
                with contextlib.suppress(Exception):
                    await producer.stop()

    task = asyncio.create_task(serve())
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


class Enrolments:
    def __init__(self, client: httpx.AsyncClient, token: str, run: str) -> None:
        self.client, self.auth, self.run = client, {"Authorization": f"Bearer {token}"}, run
        self.accepted: dict[int, str] = {}
        self.refused: set[int] = set()  # answered 503 with Retry-After: retried later with the same key
        self.requests = 0
        self.bad: list[str] = []  # any other answer: a 5xx without Retry-After, a 4xx
        self.slowest = 0.0  # seconds: the longest any request took to answer (or to fail)

    async def ask(self, i: int) -> None:
        body = {"school_code": SCHOOL, "name": f"学生{i:03d}", "gender": "female", "birth_date": "2019-04-01",
                "grade": 1, "school_year": YEAR}  # fmt: skip
        headers = {**self.auth, "Idempotency-Key": f"{self.run}-{i}"}
        self.requests += 1
        asked = time.monotonic()
        try:
            answer = await self.client.post("/v1/students", json=body, headers=headers, timeout=30)
        except httpx.TransportError:
            # No answer: in time, or at all (a pooled connection the server closed as idle just as it was reused is
            # reset, httpx.ReadError). A well-behaved client retries with the same key; the retry cannot duplicate.
            self.refused.add(i)
            return
        finally:
            self.slowest = max(self.slowest, time.monotonic() - asked)
        if answer.status_code in (201, 202):
            self.accepted[i] = str(answer.json()["student_id"])
            self.refused.discard(i)
        elif answer.status_code == 503 and int(answer.headers.get("retry-after", "0")) > 0:
            self.refused.add(i)
        else:
            self.bad.append(f"{i}: {answer.status_code} {answer.text[:200]}")


class OwnBroker(KilledInPlace):
    """The test's own broker (the session's is never touched), killed with SIGKILL and started again in place (same
    data, same ports) as its outage."""

    def __init__(self, data: Path) -> None:
        self.data, self.port, self.controller = data, free_port(), free_port()

    async def start(self) -> OwnBroker:
        self.server = await asyncio.to_thread(kafka_server.start, self.data, self.port, self.controller)
        return self


async def enrollments_across(
    isolation: Any, signing_keys: tuple[str, str], token: Any, wait_for: Any, tmp_path: Path, broker: OwnBroker
) -> tuple[Enrolments, list[str], float]:
    """The registry, started as `make run` starts it on `broker`, takes enrollments before, during and after the
    broker's outage (OUTAGE_S, once a round), the refused ones retried with the same key. Returns the load, the
    students accepted, and the longest recovery: the broker's return, and from the last answer until every accepted
    enrollment was enrolled."""
    from test_crash_under_load import _all_enrolled, _registry

    await broker.start()
    env = SimpleNamespace(servers=SimpleNamespace(kafka=broker.server.address, mongodb=isolation.servers.mongodb),
                          topic_prefix=isolation.topic_prefix, database=isolation.database, topic=isolation.topic)  # fmt: skip
    await asyncio.to_thread(kafka_server.create_topics, env.servers.kafka, [env.topic(t) for t in all_topic_names()])
    before, during, after = chaos.load(BEFORE), chaos.load(DURING), chaos.load(AFTER)
    recovery = 0.0
    try:
        async with dedupe_answering_unique(env):
            registry = await asyncio.to_thread(_registry, env, signing_keys[1], tmp_path / "registry")
            try:
                async with httpx.AsyncClient(base_url=registry.address) as client:
                    load = Enrolments(client, token("school", SCHOOL), isolation.database[-8:])
                    await asyncio.gather(*(load.ask(i) for i in range(before)))
                    for _ in range(chaos.rounds()):
                        await broker.down()
                        down = time.monotonic()
                        asked = len(load.accepted) + len(load.refused)
                        for start in range(asked, asked + during, 5):
                            await asyncio.gather(*(load.ask(i) for i in range(start, start + 5)))
                            await asyncio.sleep(max(0.0, OUTAGE_S * 5 / during - 0.2))
                        await asyncio.sleep(max(0.0, OUTAGE_S - (time.monotonic() - down)))
                        restarted = time.monotonic()
                        await broker.up()
                        recovery = max(recovery, time.monotonic() - restarted)
                    asked = len(load.accepted) + len(load.refused)
                    await asyncio.gather(*(load.ask(i) for i in range(asked, asked + after)))
                    for _ in range(30):  # the refused ones, retried as Retry-After says
                        if not load.refused:
                            break
                        await asyncio.gather(*(load.ask(i) for i in sorted(load.refused)))
                        await asyncio.sleep(1.0)
                    settled = time.monotonic()
                    ids = list(load.accepted.values())
                    await wait_for(partial(_all_enrolled, client, ids, load.auth), timeout=180, interval=1.0)
                    recovery = max(recovery, time.monotonic() - settled)
            finally:
                registry.stop()
    finally:
        broker.server.stop()
    return load, ids, recovery


async def judged(
    scenario: str, isolation: Any, load: Enrolments, ids: list[str], recovery: float, **more: float
) -> None:
    """Recorded for `make chaos`; every accepted enrollment enrolled once with one gapless R07 number, no difference
    in the registry's projections, no answer but 201/202 or 503 with Retry-After."""
    from test_crash_under_load import numbers_and_differences

    numbers, found = await numbers_and_differences(isolation, ids)
    have = {student for student, _ in numbers}
    chaos.record(scenario, requests=load.requests, kills=chaos.rounds(), lost=len(set(ids) - have),
                 duplicated=len(numbers) - len(have) + len(ids) - len(set(ids)), projection_differences=len(found),
                 http_5xx=sum(b.split()[1].startswith("5") for b in load.bad), recovery_s=recovery, **more)  # fmt: skip
    assert load.bad == []  # 201/202, or 503 with Retry-After, nothing else
    assert load.refused == set()  # every refused enrollment was taken once the broker was back
    assert len(numbers) == len(ids) == len(set(ids)) == len(have)  # exactly one record and one number each
    assert sorted(int(n[-4:]) for _, n in numbers) == list(range(1, len(ids) + 1))  # R07 gapless
    assert found == []


async def test_a_broker_killed_for_20_s_under_enrollments_loses_and_duplicates_nothing(
    isolation: Any, signing_keys: tuple[str, str], token: Any, wait_for: Any, tmp_path: Path
) -> None:
    load, ids, recovery = await enrollments_across(isolation, signing_keys, token, wait_for, tmp_path,
                                                   OwnBroker(tmp_path / "kafka"))  # fmt: skip
    await judged("broker_outage_under_load", isolation, load, ids, recovery)

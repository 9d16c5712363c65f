"""Crash under load for dedupe (issue 15): the registry and dedupe, both started as `make run` starts them, while a
class is enrolled over HTTP; each enrollment asks dedupe for a check (dedupe.check.v1) and waits for its verdict
(dedupe.verdict.v1). Dedupe is killed with SIGKILL at random moments and started again. Every accepted enrollment
gets exactly one verdict (one answer stored in its check's stream, one distinct verdict message), none stays pending,
each has one record and one gapless R07 number, and the registry's consistency checker finds no difference."""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
from collections import Counter
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from common import free_port
from stack import start_service, wait_ready

sys.path.insert(0, str(Path(__file__).resolve().parent))
import chaos
from kafka_io import records_of
from test_crash_under_load import SCHOOL, YEAR, _all_enrolled, _enroll, _registry, numbered

from xueji_contracts.topics import DEDUPE_VERDICT
from xueji_kit.event_store import EventStore
from xueji_kit.store import connect
from xueji_registry.consistency import differences

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]
PUPILS = 30  # under `make test`
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红玲梅鹏飞宇浩然欣怡子涵梓轩雨泽思琪博文晨阳佳豪"


def _pupil(i: int) -> dict[str, Any]:
    """Clearly different children: a name of its own and a birth day of its own (days 13-28, so no day/month swap
    makes two alike), so every check is answered unique and any other verdict is the crash's doing."""
    given = GIVEN[i % len(GIVEN)] + GIVEN[(i * 7 + 3) % len(GIVEN)]
    born = date(2019, 1 + i // 16 % 12, 13 + i % 16)
    return {"school_code": SCHOOL, "name": SURNAMES[i % len(SURNAMES)] + given, "gender": ("female", "male")[i % 2],
            "birth_date": born.isoformat(), "grade": 1, "school_year": YEAR}  # fmt: skip


def _dedupe(isolation: Any, public_key: str, logs: Path) -> Any:
    env = {"KAFKA_BOOTSTRAP_SERVERS": isolation.servers.kafka, "MONGODB_URI": isolation.servers.mongodb,
           "XUEJI_TOPIC_PREFIX": isolation.topic_prefix, "XUEJI_MONGODB_DATABASE": f"{isolation.database}_dedupe",
           "XUEJI_JWT_PUBLIC_KEY": public_key, "XUEJI_LOG_FORMAT": "console", "XUEJI_SCHEDULER_ENABLED": "false",
           "XUEJI_NATIONAL_ENABLED": "false", "XUEJI_RELAY_INTERVAL_SECONDS": "0.05"}  # fmt: skip
    return start_service("dedupe", free_port(), env, logs)


async def test_a_dedupe_killed_while_a_class_is_checked_gives_every_enrollment_exactly_one_verdict(
    isolation: Any, signing_keys: tuple[str, str], token: Any, wait_for: Any, tmp_path: Path
) -> None:
    auth = {"Authorization": f"Bearer {token('school', SCHOOL)}"}
    rng = random.Random()
    pupils, rounds = chaos.load(PUPILS), chaos.rounds()
    kill_after = sorted(rng.sample(range(1, pupils), rounds)) if pupils > rounds else [1] * rounds
    accepted: list[str] = []
    errors: list[int] = []
    kills, recovery = 0, 0.0
    dedupe = _dedupe(isolation, signing_keys[1], tmp_path / "dedupe-start")
    registry = _registry(isolation, signing_keys[1], tmp_path / "registry")
    try:
        await asyncio.to_thread(wait_ready, [dedupe], 90)
        async with httpx.AsyncClient(base_url=registry.address) as client:
            for start in range(0, pupils, 5):
                asked = range(start, min(start + 5, pupils))
                found = await asyncio.gather(
                    *(_enroll(client, auth | {"Idempotency-Key": f"pupil-{i}"}, _pupil(i), errors) for i in asked)
                )
                accepted += [s for s in found if s]
                if kills < rounds and asked.stop >= kill_after[kills]:
                    await asyncio.sleep(rng.uniform(0.0, 0.6))  # somewhere in the checks' answering
                    dedupe.process.kill()
                    dedupe.process.wait(10)
                    killed, kills = time.monotonic(), kills + 1
                    dedupe.stop()
                    dedupe = _dedupe(isolation, signing_keys[1], tmp_path / f"dedupe-round{kills}")
                    await asyncio.to_thread(wait_ready, [dedupe], 90)
                    recovery = max(recovery, time.monotonic() - killed)
            settled = partial(_all_enrolled, client, list(accepted), auth)
            await wait_for(settled, timeout=180, interval=1.0)
    finally:
        dedupe.stop()
        registry.stop()

    verdicts = await records_of(isolation.servers.kafka, isolation.topic(DEDUPE_VERDICT.name),
                                lambda r: len({json.loads(x.value)["payload"]["student_id"] for x in r}) >= len(accepted))  # fmt: skip
    mongo = connect(isolation.servers.mongodb)
    try:
        events = EventStore(mongo[f"{isolation.database}_registry"])
        numbers = await numbered(events, accepted)
        found = await differences(events)
        checks = EventStore(mongo[f"{isolation.database}_dedupe"])
        answers = Counter([c["aggregate_id"] async for c in checks.every_commit({"aggregate_id": {"$regex": "^check:"}})
                           for e in c["events"] if e["type"] == "CheckAnswered"])  # fmt: skip
    finally:
        await mongo.close()
    messages = [json.loads(r.value) for r in verdicts]
    kinds = {(m["payload"]["student_id"], m["payload"]["verdict"]) for m in messages}
    distinct = Counter(m["payload"]["student_id"] for m in {m["message_id"]: m for m in messages}.values())
    ids = {student for student, _ in numbers}
    lost = len(set(accepted) - ids) + len(set(accepted) - distinct.keys())
    duplicated = (len(numbers) - len(ids) + sum(n - 1 for n in distinct.values())
                  + sum(n - 1 for n in answers.values()))  # fmt: skip
    chaos.record("dedupe_crash_under_load", requests=pupils, kills=kills, lost=lost, duplicated=duplicated,
                 projection_differences=len(found), http_5xx=len(errors), recovery_s=recovery)  # fmt: skip
    assert len(answers) == len(accepted) and set(answers.values()) == {1}  # one stored answer per check
    assert set(distinct.values()) == {1} and distinct.keys() == set(accepted)  # one verdict message each
    assert {kind for _, kind in kinds} == {"unique"}
    assert len(numbers) == len(accepted) == len(set(accepted)) == len(ids)  # one record and one number each
    assert sorted(int(n[-4:]) for _, n in numbers) == list(range(1, len(accepted) + 1))  # R07 gapless
    assert found == []
    assert errors == []

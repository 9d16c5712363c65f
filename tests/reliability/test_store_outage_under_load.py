"""A store outage under load (issue 15): the registry and transfer, started as `make run` starts them on the test's
own FerretDB, take enrollments and transfer decisions while that FerretDB is killed with SIGKILL for 20 s and then
started again in place (same data, same port), once a round (XUEJI_CHAOS_ROUNDS). During the outage every answer is a 503 with Retry-After (never a
500) and readiness is false; clients retry with the same Idempotency-Key. Once the store is back, without help, every
enrollment is enrolled with one record and one gapless R07 number, every case is decided to its end with each effect
once, and both services' consistency checkers find no difference. The session's store is never touched."""

from __future__ import annotations

import asyncio
import contextlib
import random
import sys
import time
from functools import partial
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import ferretdb_server
import httpx
import pytest
from common import free_port

sys.path.insert(0, str(Path(__file__).resolve().parent))
import chaos
from test_broker_outage_under_load import Enrolments, dedupe_answering_unique
from test_crash_under_load import SCHOOL, _all_enrolled, _registry, numbered
from test_crash_under_load_transfer import Case, _check, _count, _seed_records, _transfer

from xueji_kit.store import EventStore, connect
from xueji_registry.consistency import differences

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]
OUTAGE_S, BEFORE_S, AFTER_S = 20.0, 3.0, 3.0
ENROLLMENTS, CASES = 16, 5  # under `make test`: asked for across the outage; cases decided across it


class Answers:
    """Every answer of both services: a 503 must carry Retry-After; any other 5xx is a failure of the promise."""

    def __init__(self) -> None:
        self.refused = 0
        self.bad: list[str] = []

    def judge(self, what: str, answer: httpx.Response) -> bool:
        """True when the request must be retried (503 with Retry-After); records anything else in 5xx."""
        if answer.status_code == 503 and int(answer.headers.get("retry-after", "0")) > 0:
            self.refused += 1
            return True
        if answer.status_code >= 500:
            self.bad.append(f"{what}: {answer.status_code} {answer.text[:200]}")
            return True
        return False


async def _decide(client: httpx.AsyncClient, token: Any, case: Case, answers: Answers, rng: random.Random) -> None:
    """One case's six requests in order, paced so they span the outage; retried with the same key when refused."""
    while case.done < 6:
        name, path, who, body = case.requests()[case.done]
        headers = {"Authorization": f"Bearer {token(*who)}", "Idempotency-Key": f"{case.key}-{name}"}
        try:
            answer = await client.post(path, json=body, headers=headers, timeout=30)
        except httpx.HTTPError:
            await asyncio.sleep(1.0)
            continue
        if answers.judge(f"transfer {name}", answer):
            await asyncio.sleep(1.0)
            continue
        assert answer.status_code in (200, 201), f"{name} {case.transfer_id}: {answer.text}"
        if name == "apply":
            case.transfer_id = answer.json()["transfer_id"]
        case.done += 1
        await asyncio.sleep(rng.uniform(0.5, 3.0))


async def _readiness(addresses: list[str], seen: dict[str, set[int]], stop: asyncio.Event) -> None:
    async with httpx.AsyncClient() as client:
        while not stop.is_set():
            for address in addresses:
                with contextlib.suppress(httpx.HTTPError):
                    seen[address].add((await client.get(f"{address}/readyz", timeout=8)).status_code)
            await asyncio.sleep(0.5)


async def test_a_store_killed_for_20_s_under_enrollments_and_transfers_answers_503_and_loses_nothing(
    isolation: Any, signing_keys: tuple[str, str], token: Any, wait_for: Any, tmp_path: Path
) -> None:
    rng = random.Random()
    data, port = tmp_path / "ferretdb" / "data", free_port()
    held = [await asyncio.to_thread(ferretdb_server.start, data, port)]  # the store now running
    env = SimpleNamespace(servers=SimpleNamespace(kafka=isolation.servers.kafka, mongodb=held[0].address),
                          topic_prefix=isolation.topic_prefix, database=isolation.database, topic=isolation.topic)  # fmt: skip
    cases = [Case(n, isolation.database[-8:]) for n in range(chaos.load(CASES))]
    enrollments = chaos.load(ENROLLMENTS)
    answers = Answers()
    servers: list[Any] = []
    try:
        async with dedupe_answering_unique(env):
            await _seed_records(env, cases)
            servers += await asyncio.gather(asyncio.to_thread(_registry, env, signing_keys[1], tmp_path / "registry"),
                                            asyncio.to_thread(_transfer, env, signing_keys[1], tmp_path / "transfer"))  # fmt: skip
            registry, transfer = servers
            mongo = connect(held[0].address)
            try:
                records = EventStore(mongo[f"{isolation.database}_transfer"], "student_records").collection
                await wait_for(lambda: _count(records, len(cases)), timeout=60, interval=0.5)
            finally:
                await mongo.close()
            async with httpx.AsyncClient(base_url=registry.address) as to_registry, \
                       httpx.AsyncClient(base_url=transfer.address) as to_transfer:  # fmt: skip
                load = Enrolments(to_registry, token("school", SCHOOL), isolation.database[-8:])
                deciding = asyncio.gather(*(_decide(to_transfer, token, c, answers, rng) for c in cases))
                seen: dict[str, set[int]] = {registry.address: set(), transfer.address: set()}

                async def outage() -> float:
                    """The store killed after BEFORE_S for OUTAGE_S and started in place, once a round; the longest
                    time from its restart until both services are ready again."""
                    longest = 0.0
                    for _ in range(chaos.rounds()):
                        await asyncio.sleep(BEFORE_S)
                        held[0].process.kill()
                        held[0].process.wait(10)
                        stop = asyncio.Event()
                        watching = asyncio.create_task(_readiness(list(seen), seen, stop))
                        await asyncio.sleep(OUTAGE_S)
                        stop.set()
                        await watching
                        held[0] = await asyncio.to_thread(ferretdb_server.start, data, port)
                        back = time.monotonic()
                        await wait_for(partial(_ready, list(seen)), timeout=60, interval=0.2)
                        longest = max(longest, time.monotonic() - back)
                    return longest

                cutting = asyncio.create_task(outage())
                asking: list[asyncio.Task[None]] = []
                for i in range(enrollments):
                    asking.append(asyncio.create_task(load.ask(i)))
                    await asyncio.sleep(((BEFORE_S + OUTAGE_S) * chaos.rounds() + AFTER_S) / enrollments)
                recovery = await cutting
                await asyncio.gather(*asking)
                for _ in range(60):  # the refused ones, retried as Retry-After says, with the same key
                    if not load.refused:
                        break
                    await asyncio.gather(*(load.ask(i) for i in sorted(load.refused)))
                    await asyncio.sleep(1.0)
                await asyncio.wait_for(deciding, timeout=180)
                ids = list(load.accepted.values())
                await wait_for(partial(_all_enrolled, to_registry, ids, load.auth), timeout=120, interval=1.0)
        mongo = connect(held[0].address)
        try:
            events = EventStore(mongo[f"{isolation.database}_registry"])
            numbers = await numbered(events, ids)
            found = [str(d) for d in await differences(events)]
            lost, duplicated, unsettled = await _check(EventStore(mongo[f"{isolation.database}_transfer"]), cases)
        finally:
            await mongo.close()
    finally:
        for server in servers:
            server.stop()
        held[0].stop()

    have = {student for student, _ in numbers}
    bad = answers.bad + load.bad
    chaos.record("store_outage_under_load", requests=load.requests + 6 * len(cases) + answers.refused, kills=chaos.rounds(),
                 lost=lost + len(set(ids) - have) + len(load.refused),
                 duplicated=duplicated + len(numbers) - len(have) + len(ids) - len(set(ids)),
                 projection_differences=len(found) + len(unsettled), http_5xx=len(bad), recovery_s=recovery)  # fmt: skip
    assert bad == []  # 2xx, or 503 with Retry-After: never a 500
    assert all(seen[a] - {200} for a in seen), seen  # readiness went false on both while the store was away
    assert load.refused == set()  # every refused enrollment was taken once the store was back
    assert len(numbers) == len(ids) == len(set(ids)) == len(have) == enrollments  # one record and one number each
    assert sorted(int(n[-4:]) for _, n in numbers) == list(range(1, len(ids) + 1))  # R07 gapless
    assert (lost, duplicated) == (0, 0)
    assert found == [] and unsettled == []


async def _ready(addresses: list[str]) -> bool:
    async with httpx.AsyncClient() as client:
        for address in addresses:
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(f"{address}/readyz", timeout=5)).status_code == 200:
                    continue
            return False
    return True

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
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Protocol

import ferretdb_server
import httpx
import pytest
from common import free_port

sys.path.insert(0, str(Path(__file__).resolve().parent))
import chaos
from faults import KilledInPlace
from test_broker_outage_under_load import Enrolments, dedupe_answering_unique
from test_crash_under_load import SCHOOL, _all_enrolled, _registry, numbered
from test_crash_under_load_transfer import Case, _check, _count, _seed_records, _transfer, skip_in_the_blackout

from xueji_kit.event_store import EventStore
from xueji_kit.store import connect
from xueji_registry.consistency import differences

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]
OUTAGE_S, BEFORE_S, AFTER_S = 20.0, 3.0, 3.0
ENROLLMENTS, CASES = 16, 5  # under `make test`: asked for across the outage; cases decided across it


class Answers:
    """Every answer of both services: a 503 must carry Retry-After; any other 5xx is a failure of the promise."""

    def __init__(self) -> None:
        self.refused = 0
        self.bad: list[str] = []
        self.slowest = 0.0  # seconds: the longest a transfer request took to answer (or to fail)

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
        asked = time.monotonic()
        try:
            answer = await client.post(path, json=body, headers=headers, timeout=30)
        except httpx.HTTPError:
            await asyncio.sleep(1.0)
            continue
        finally:
            answers.slowest = max(answers.slowest, time.monotonic() - asked)
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


class StoreFault(Protocol):
    """What happens to the store, once a round: `down()` at the start of the outage, `up()` at its end."""

    async def down(self) -> None: ...

    async def up(self) -> None: ...


@dataclass
class Outcome:
    """What the load met and what it left, once everything settled."""

    answers: Answers  # transfer's
    load: Enrolments  # the registry's
    ids: list[str]  # the students accepted
    numbers: list[tuple[str, str]]  # (student, R07 number) of every number assigned
    found: list[str]  # the registry consistency checker's differences
    lost: int  # transfer effects lost, and duplicated
    duplicated: int
    unsettled: list[str]  # transfer's differences, and cases not decided to their end
    seen: dict[str, set[int]]  # each service's readiness answers during the outages
    recovery: float  # seconds from the store's return until both services were ready, the longest round

    def record(self, scenario: str, **more: float) -> None:
        have = {student for student, _ in self.numbers}
        load, ids, numbers = self.load, self.ids, self.numbers
        chaos.record(scenario, requests=load.requests + 6 * chaos.load(CASES) + self.answers.refused, kills=chaos.rounds(),
                     lost=self.lost + len(set(ids) - have) + len(load.refused),
                     duplicated=self.duplicated + len(numbers) - len(have) + len(ids) - len(set(ids)),
                     projection_differences=len(self.found) + len(self.unsettled),
                     http_5xx=len(self.answers.bad + load.bad), recovery_s=self.recovery, **more)  # fmt: skip

    def check(self, enrollments: int) -> None:
        """Nothing lost, nothing duplicated, no answer but 2xx or 503 with Retry-After, every projection right."""
        ids, numbers = self.ids, self.numbers
        have = {student for student, _ in numbers}
        assert self.answers.bad + self.load.bad == []  # 2xx, or 503 with Retry-After: never a 500
        assert self.load.refused == set()  # every refused enrollment was taken once the store was back
        assert len(numbers) == len(ids) == len(set(ids)) == len(have) == enrollments  # one record, one number each
        assert sorted(int(n[-4:]) for _, n in numbers) == list(range(1, len(ids) + 1))  # R07 gapless
        assert (self.lost, self.duplicated) == (0, 0)
        assert self.found == [] and self.unsettled == []


async def under_load_across(
    isolation: Any, signing_keys: tuple[str, str], token: Any, wait_for: Any, tmp_path: Path, store: str, path: str,
    fault: StoreFault,
) -> Outcome:  # fmt: skip
    """The registry and transfer, started as `make run` starts them on the store at `path` (`store` itself, or a
    way to it), take enrollments and decide cases while `fault` takes the store away for OUTAGE_S once a round.
    Clients retry a refused request with the same Idempotency-Key. What it left is read from `store` directly."""
    rng = random.Random()
    env = SimpleNamespace(servers=SimpleNamespace(kafka=isolation.servers.kafka, mongodb=path),
                          topic_prefix=isolation.topic_prefix, database=isolation.database, topic=isolation.topic)  # fmt: skip
    skip_in_the_blackout()
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
            mongo = connect(store)
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
                    """The store away after BEFORE_S for OUTAGE_S, once a round; the longest time from its return
                    until both services are ready again."""
                    longest = 0.0
                    for _ in range(chaos.rounds()):
                        await asyncio.sleep(BEFORE_S)
                        await fault.down()
                        stop = asyncio.Event()
                        watching = asyncio.create_task(_readiness(list(seen), seen, stop))
                        await asyncio.sleep(OUTAGE_S)
                        stop.set()
                        await watching
                        await fault.up()
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
        mongo = connect(store)
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
    return Outcome(answers, load, ids, numbers, found, lost, duplicated, unsettled, seen, recovery)


class Killed(KilledInPlace):
    """The store killed with SIGKILL and started again in place (same data, same port)."""

    def __init__(self, data: Path, port: int) -> None:
        self.data, self.port = data, port

    async def start(self) -> Killed:
        self.server = await asyncio.to_thread(ferretdb_server.start, self.data, self.port)
        return self


async def test_a_store_killed_for_20_s_under_enrollments_and_transfers_answers_503_and_loses_nothing(
    isolation: Any, signing_keys: tuple[str, str], token: Any, wait_for: Any, tmp_path: Path
) -> None:
    store = await Killed(tmp_path / "ferretdb" / "data", free_port()).start()
    try:
        address = store.server.address
        outcome = await under_load_across(isolation, signing_keys, token, wait_for, tmp_path, address, address, store)
    finally:
        store.server.stop()
    outcome.record("store_outage_under_load")
    assert all(outcome.seen[a] - {200} for a in outcome.seen), outcome.seen  # readiness went false on both
    outcome.check(chaos.load(ENROLLMENTS))


async def _ready(addresses: list[str]) -> bool:
    async with httpx.AsyncClient() as client:
        for address in addresses:
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(f"{address}/readyz", timeout=5)).status_code == 200:
                    continue
            return False
    return True

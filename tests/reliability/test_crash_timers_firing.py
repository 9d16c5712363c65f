"""Crash under load while transfer's own SLA timers fire (issue 15, R22): transfer, started as `make run` starts it
with its scheduler on, arms a few hundred stage timers through its real path (an application opens the receiving
school's stage; the domain asks the calendar for its deadline; the timers are filed under their due minutes) and is
killed with SIGKILL at random moments while they fall due, then started again on the same port. The only thing made
for the test is the length of a working day (`XUEJI_TEST_WORKING_DAY_SECONDS`, test only), so the R22 deadline of 10
working days, its warning 2 days before and each escalation 10 days later fall due within seconds.

Each wave applies for cases; most stay undecided (their stage is warned, then breached up the whole chain: county,
city, province), some have the stage decided part-way (the school's timers not yet due are cancelled, the county
bureau's stage opens and runs its own chain). Then: every timer that came due fired, its warning or breach on
`transfer.sla.v1` under one message id (a redelivery repeats that id, which consumers drop); none was overtaken by a
later timer of its case or left armed; no timer armed for a closed stage; the transfer checker finds 0 differences."""

from __future__ import annotations

import asyncio
import contextlib
import random
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from common import free_port
from kafka_messages import published

sys.path.insert(0, str(Path(__file__).resolve().parent))
import chaos
from test_crash_under_load_transfer import Case, _seed_records, _transfer

from xueji_contracts.envelope import derive_id
from xueji_contracts.policy import load_policy
from xueji_contracts.topics import TRANSFER_SLA
from xueji_kit.event_store import EventStore
from xueji_kit.store import Document, connect
from xueji_kit.timers import TimerStore
from xueji_transfer import consistency
from xueji_transfer.domain import TransferRules, armed_timers, from_documents, replay

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]
WORKING_DAY = 0.3  # seconds: a stage is warned 2.4 s after it opens, breached at 3 s, escalated again at 6 s and 9 s
CASES = 24  # per wave (one wave per kill) under `make test`; a third of them have their stage decided part-way
SETTINGS = {"XUEJI_SCHEDULER_ENABLED": "true", "XUEJI_TEST_WORKING_DAY_SECONDS": str(WORKING_DAY),
            "XUEJI_SCHEDULER_STALE_CLAIM_SECONDS": "3"}  # fmt: skip
# What a stage that stays open publishes (R22): its warning, then a breach per level above it up to the province.
CHAIN = {"receiving_school": (1, 2, 3), "receiving_bureau": (1, 2)}  # escalation counts


@dataclass
class Driver:
    """Sends each request until it is answered (connection refused while transfer is down, retried with its key)."""

    client: httpx.AsyncClient
    token: Any
    requests: int = 0
    server_errors: int = 0

    async def send(self, path: str, who: tuple[str, str], body: dict[str, Any], key: str) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.token(*who)}", "Idempotency-Key": key}
        while True:
            self.requests += 1
            try:
                answer = await self.client.post(path, json=body, headers=headers, timeout=30)
            except httpx.HTTPError:
                await asyncio.sleep(0.3)
                continue
            if answer.status_code == 409 and "Retry-After" in answer.headers:  # its first try still holds the key
                await asyncio.sleep(0.3)
                continue
            if answer.status_code >= 500:
                self.server_errors += answer.status_code != 503 or "Retry-After" not in answer.headers
                await asyncio.sleep(0.3)
                continue
            assert answer.status_code in (200, 201), f"{path}: {answer.status_code} {answer.text}"
            result: dict[str, Any] = answer.json()
            return result


@dataclass
class Wave:
    cases: list[Case]
    decided: set[int] = field(default_factory=set)  # case numbers whose school stage is decided part-way

    async def run(self, driver: Driver, rng: random.Random) -> None:
        await asyncio.gather(*(self._one(driver, case, rng) for case in self.cases))

    async def _one(self, driver: Driver, case: Case, rng: random.Random) -> None:
        _, path, who, body = case.requests()[0]
        case.transfer_id = (await driver.send(path, who, body, f"{case.key}-apply"))["transfer_id"]
        if case.n not in self.decided:
            return
        await asyncio.sleep(rng.uniform(1, 12) * WORKING_DAY)  # before its warning, or between escalations
        for name, path, who, body in case.requests()[1:3]:  # examination, the school's approval (step 3)
            await driver.send(path, who, body, f"{case.key}-{name}")


async def test_r22_transfer_killed_while_its_sla_timers_fire_fires_each_due_timer_once(
    isolation: Any, signing_keys: tuple[str, str], token: Any, wait_for: Any, tmp_path: Path
) -> None:
    rng = random.Random()
    kills = 2 * chaos.rounds()
    run = isolation.database[-8:]
    waves = []
    for w in range(kills):
        cases = [Case(w * 1000 + n, run) for n in range(chaos.load(CASES))]
        waves.append(Wave(cases, {c.n for c in cases if c.n % 3 == 0}))
    every = [c for wave in waves for c in wave.cases]
    await _seed_records(isolation, every)
    mongo = connect(isolation.servers.mongodb)
    db = mongo[f"{isolation.database}_transfer"]
    port, recovery, started = free_port(), 0.0, time.monotonic()
    server = _transfer(isolation, signing_keys[1], tmp_path / "start", port, **SETTINGS)
    try:
        records = EventStore(db, "student_records").collection
        await wait_for(lambda: _count(records, len(every)), timeout=60, interval=0.5)
        async with httpx.AsyncClient(base_url=server.address) as client:
            driver = Driver(client, token)
            traffic = []
            for n, wave in enumerate(waves):
                traffic.append(asyncio.ensure_future(wave.run(driver, rng)))
                # Into the firing: the wave's first warnings fall due 8 working days after its applications, the
                # earlier wave's catch-up after the restart runs meanwhile.
                await asyncio.sleep(rng.uniform(6, 16) * WORKING_DAY)
                server.process.kill()
                server.process.wait(10)
                killed = time.monotonic()
                server = await asyncio.to_thread(
                    _transfer, isolation, signing_keys[1], tmp_path / f"kill{n}", port, **SETTINGS
                )
                recovery = max(recovery, time.monotonic() - killed)
            await asyncio.gather(*traffic)
            # Until transfer has nothing left to do (every chain run to its end, the outbox empty: slow under load,
            # not lost), then what the topic holds; anything missing then is named below.
            ids = [c.transfer_id for c in every]
            with contextlib.suppress(AssertionError):
                await wait_for(lambda: _idle(db, set(ids)), timeout=240, interval=1)
            give_up = time.monotonic() + 15
            messages = await published(isolation.servers.kafka, isolation.topic(TRANSFER_SLA.name),
                                       lambda ms: _chains_complete(ms, waves) or time.monotonic() > give_up,
                                       timeout=60)  # fmt: skip
        events = EventStore(db)
        fates = await _fates(events, ids)
        differences = [f"{d.subject}: {d.projection} {d.expected} != {d.found}"
                       for d in await consistency.differences(events, "35", ids)]  # fmt: skip
    finally:
        server.stop()
        await mongo.close()
    problems, duplicated, redelivered = _compare(fates, messages, waves)
    fired = sum(len(f.fired) for f in fates.values())
    chaos.record("transfer_timers_firing_crash", requests=driver.requests + fired, kills=kills, lost=len(problems),
                 duplicated=duplicated, projection_differences=len(differences), http_5xx=driver.server_errors,
                 recovery_s=recovery)  # fmt: skip
    superseded = sum(len(f.superseded) for f in fates.values())
    print(f"{fired} timers fired ({superseded} ended by a decision) over {len(every)} cases, {kills} kills, "
          f"{redelivered} messages redelivered, {time.monotonic() - started:.1f} s")  # fmt: skip
    print("\n".join(problems))
    assert problems == []  # every due timer fired and published
    assert differences == []
    assert (duplicated, driver.server_errors) == (0, 0)


async def _count(collection: Any, wanted: int) -> bool:
    return bool(await collection.count_documents({}) >= wanted)


def _key(message: dict[str, Any]) -> tuple[str, str, str, int | None]:
    p = message["payload"]
    return p["transfer_id"], p["stage"], message["type"], p.get("escalation_count")


def _expected(waves: list[Wave]) -> set[tuple[str, str, str, int | None]]:
    """What each case's open stage must have published by the end of its chain."""
    wanted = set()
    for wave in waves:
        for case in wave.cases:
            stage = "receiving_bureau" if case.n in wave.decided else "receiving_school"
            wanted.add((case.transfer_id, stage, "StageWarning", None))
            wanted |= {(case.transfer_id, stage, "StageBreached", n) for n in CHAIN[stage]}
    return wanted


def _chains_complete(messages: list[dict[str, Any]], waves: list[Wave]) -> bool:
    return _expected(waves) <= {_key(m) for m in messages}


async def _idle(db: Any, transfer_ids: set[str]) -> bool:
    """The scheduler has seen every timer of these cases through (fired, or found moot and marked) and the relay has
    published every commit."""
    if await EventStore(db).outbox.count_documents({}):
        return False
    return not [t for t in await TimerStore(db).armed() if t["aggregate_id"] in transfer_ids]


@dataclass
class Fates:
    """What became of each timer one case armed, read from its stream."""

    fired: dict[str, list[Document]] = field(default_factory=dict)  # timer id: the events its firing recorded
    superseded: list[str] = field(default_factory=list)  # ended by a decision (the stage closed)
    overtaken: list[str] = field(default_factory=list)  # ended by another timer's firing without firing itself
    stuck: list[str] = field(default_factory=list)  # still armed though due


async def _fates(events: EventStore, transfer_ids: list[str]) -> dict[str, Fates]:
    """Replays each case commit by commit with the domain's own `armed_timers`: a timer leaves the armed set either
    by its own firing commit (commit id derived from the timer id), by a decision, or - a defect - by another timer's
    firing. Timers still armed at the end and already due are stuck."""
    rules = TransferRules.from_policy(load_policy("35"))
    now = datetime.now(UTC)
    found = {}
    for transfer_id in transfer_ids:
        fates, history, armed = Fates(), [], {}
        for commit in await events.load(transfer_id):
            history += commit["events"]
            after = {t.timer_id: t for t in armed_timers(replay(from_documents(history)), rules)}
            firing = {str(derive_id(t, "fire")): t for t in armed}
            for timer_id in armed.keys() - after.keys():
                if commit.get("commit_id") == str(derive_id(timer_id, "fire")):
                    fates.fired[timer_id] = commit["events"]
                elif commit.get("commit_id") in firing:
                    fates.overtaken.append(timer_id)
                else:
                    fates.superseded.append(timer_id)
            armed = after
        fates.stuck = [t.timer_id for t in armed.values() if t.due_at <= now]
        found[transfer_id] = fates
    return found


def _compare(fates: dict[str, Fates], messages: list[dict[str, Any]], waves: list[Wave]) -> tuple[list[str], int, int]:
    """Each loss named (a due timer that never fired, a firing whose message is not on the topic, a chain not
    published to its end); duplicated: one warning or breach under two message ids; redelivered (allowed): one
    message id twice."""
    ids_of: dict[tuple[str, str, str, int | None], set[str]] = defaultdict(set)
    for message in messages:
        ids_of[_key(message)].add(message["message_id"])
    redelivered = sum(n - 1 for n in Counter(m["message_id"] for m in messages).values())
    duplicated = sum(len(ids) - 1 for ids in ids_of.values())
    lost = []
    for transfer_id, fate in fates.items():
        lost += [f"{transfer_id}: timer {t} overtaken by a later one, never fired" for t in fate.overtaken]
        lost += [f"{transfer_id}: timer {t} due but still armed" for t in fate.stuck]
        for events in fate.fired.values():
            keys = [k for k in (_event_key(transfer_id, e) for e in events) if k is not None]
            lost += [f"{transfer_id}: {k[1:]} recorded but not on the topic" for k in keys if k not in ids_of]
    lost += [f"{m[0]}: {m[1:]} never published" for m in sorted(_expected(waves) - ids_of.keys(), key=str)]
    return lost, duplicated, redelivered


def _event_key(transfer_id: str, event: Document) -> tuple[str, str, str, int | None] | None:
    if event["type"] == "stage_warned":
        return transfer_id, event["stage"], "StageWarning", None
    if event["type"] == "stage_escalated":
        return transfer_id, event["stage"], "StageBreached", int(event["escalation_count"])
    return None

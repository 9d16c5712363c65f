"""Crash under load for notify (issue 15): notify, started as `make run` starts it, is killed with SIGKILL at random
moments while SLA timers fire upstream (a transfer stage's warning and breach, a dedupe review's R14 deadline: the
messages transfer's and dedupe's schedulers publish when their timers fire) and every notification is delivered to a
webhook receiver on loopback whose first answer to each delivery is a 503, so each delivery needs a retry timer of
notify's own. After the restarts: every notification due is stored once (an escalation reaches the inbox once), every
delivery due reached the receiver, none twice under two ids, none left pending, and the consistency checker finds the
inboxes, the dashboard projections and counts and the deliveries equal to what the topics say."""

from __future__ import annotations

import asyncio
import contextlib
import random
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from common import free_port
from stack import start_service, wait_ready

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "notify"))  # the webhook receiver
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "services" / "notify" / "tests"))  # notify_events
import chaos
import notify_events as ev
from kafka_io import records_of
from webhook_receiver import Receiver, self_signed

from xueji_contracts.envelope import Envelope, derive_id, envelop
from xueji_contracts.messages.dedupe_review import ReviewCaseDeadline, ReviewCaseOpened, ReviewDeadlineState
from xueji_contracts.topics import DEDUPE_REVIEW
from xueji_kit.store import connect
from xueji_notify.consistency import differences, rebuild

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]
CASES = 10  # x 7 messages and 8 notifications (each delivered twice: a 503, then the retry) under `make test`
CITY = "350600"


def _review(tid: str) -> list[Envelope[Any]]:
    """A dedupe review case opened, then its R14 deadline's warning and breach (escalated to the city)."""
    now = datetime.now(UTC)
    due = ev.end_of_day(now.date() + timedelta(days=3))
    ids = {"case_id": f"rc_{tid}", "county_code": ev.COUNTY, "school_code": ev.SCHOOL, "student_id": f"stu_{tid}"}
    payloads: list[Any] = [
        ReviewCaseOpened(**ids, candidate_student_id=f"stu_old_{tid}", score=0.93, reason_zh="姓名、出生日期相同",
                         reason_en="same name and birth date", opened_at=now, due_at=due,
                         warn_at=due - timedelta(days=1)),
        ReviewCaseDeadline(**ids, state=ReviewDeadlineState.DUE_SOON, due_at=due),
        ReviewCaseDeadline(**ids, state=ReviewDeadlineState.OVERDUE, due_at=due, escalated_to=CITY),
    ]  # fmt: skip
    return [envelop(p, producer="dedupe", province="35", occurred_at=datetime.now(UTC)) for p in payloads]


def _messages(tid: str) -> list[tuple[str | None, Envelope[Any]]]:
    """One case's traffic: a stage opened, its warning, its breach escalated to the county; a review case."""
    opened = ev.opened(tid)
    due = opened.payload.deadline.due_at
    stage = [opened, ev.warning(tid, due), ev.breached(tid, due)]
    return [(None, m) for m in stage] + [(DEDUPE_REVIEW.name, m) for m in _review(tid)]


def _notify(isolation: Any, public_key: str, ca: Path, logs: Path) -> Any:
    env = {"KAFKA_BOOTSTRAP_SERVERS": isolation.servers.kafka, "MONGODB_URI": isolation.servers.mongodb,
           "XUEJI_TOPIC_PREFIX": isolation.topic_prefix, "XUEJI_MONGODB_DATABASE": f"{isolation.database}_notify",
           "XUEJI_JWT_PUBLIC_KEY": public_key, "XUEJI_LOG_FORMAT": "console", "XUEJI_RELAY_INTERVAL_SECONDS": "0.05",
           "XUEJI_WEBHOOK_CA_FILE": str(ca), "XUEJI_WEBHOOK_BACKOFF_SECONDS": "0.5",
           "XUEJI_WEBHOOK_BACKOFF_CAP_SECONDS": "2", "XUEJI_WEBHOOK_TICK_SECONDS": "0.1",
           "XUEJI_WEBHOOK_TIMEOUT_SECONDS": "3", "XUEJI_WEBHOOK_STALE_CLAIM_SECONDS": "6"}  # fmt: skip
    return start_service("notify", free_port(), env, logs)


class Traffic:
    """Publishes the cases' messages (some twice, as a relay does after its own crash) and counts them per topic."""

    def __init__(self, upstream: ev.Upstream, rng: random.Random) -> None:
        self.upstream, self.rng = upstream, rng
        self.sent: Counter[str] = Counter()

    async def publish(self, cases: list[str]) -> None:
        for tid in cases:
            for topic, message in _messages(tid):
                for _ in range(2 if self.rng.random() < 0.1 else 1):
                    await self.upstream.send(message, topic=topic)
                    self.sent[topic or ev.TOPIC_OF[type(message.payload)].name] += 1
            await asyncio.sleep(self.rng.uniform(0.0, 0.15))


class Watcher:
    """Reads the dashboard and the county's inbox as operators do while all this goes on: counts the 5xx."""

    def __init__(self, token: Any) -> None:
        self.token, self.server_errors, self.address = token, 0, ""

    async def run(self) -> None:
        reads = [("/v1/dashboard/summary", ("city", CITY)), ("/v1/inbox?limit=20", ("county", ev.COUNTY))]
        async with httpx.AsyncClient() as client:
            while True:
                for path, who in reads:
                    with contextlib.suppress(httpx.HTTPError):
                        auth = {"Authorization": f"Bearer {self.token(*who)}"}
                        answer = await client.get(self.address + path, headers=auth, timeout=5)
                        self.server_errors += answer.status_code >= 500
                await asyncio.sleep(0.3)


async def test_a_notify_service_killed_while_timers_fire_and_webhooks_deliver_loses_and_duplicates_nothing(
    isolation: Any, signing_keys: tuple[str, str], token: Any, tmp_path: Path
) -> None:
    rng = random.Random()
    cert, key = self_signed(tmp_path)
    receiver = Receiver({"/city": ["fail", "ok"]})
    http, serving = await receiver.serve(cert, key)
    cases = [ev.transfer_id() for _ in range(chaos.load(CASES))]
    rounds = chaos.rounds()
    cuts = sorted(rng.sample(range(1, len(cases)), rounds)) if len(cases) > rounds else [1] * rounds
    chunks = [cases[a:b] for a, b in zip([0, *cuts], [*cuts, len(cases)], strict=True)]
    watcher = Watcher(token)
    kills, recovery = 0, 0.0
    mongo = connect(isolation.servers.mongodb)
    db = mongo[f"{isolation.database}_notify"]
    server = _notify(isolation, signing_keys[1], cert, tmp_path / "start")
    watching = asyncio.create_task(watcher.run())
    try:
        await asyncio.to_thread(wait_ready, [server], 90)
        watcher.address = server.address
        hook = await _register(server.address, token("city", CITY), receiver)
        async with ev.Upstream(isolation) as upstream:
            traffic = Traffic(upstream, rng)
            for round_, chunk in enumerate(chunks):
                await traffic.publish(chunk)
                if round_ == rounds:
                    break
                await asyncio.sleep(rng.uniform(0.2, 2.5))  # somewhere in the handling, the retries, the recounts
                server.process.kill()
                server.process.wait(10)
                killed, kills = time.monotonic(), kills + 1
                server.stop()
                server = _notify(isolation, signing_keys[1], cert, tmp_path / f"round{round_}")
                await asyncio.to_thread(wait_ready, [server], 90)
                watcher.address = server.address
                recovery = max(recovery, time.monotonic() - killed)
        records = await _records(isolation, traffic.sent)
        # A delivery claimed by the killed process is taken over after the stale-claim time (6 s here, 60 by default).
        found = await _settled(db, records, timeout=240)
        stored = [d async for d in db["notifications"].find({}, {"source_message_id": 1, "kind": 1,
                                                                 "jurisdiction": 1})]  # fmt: skip
        escalations = await _escalations_served(server.address, token)
    finally:
        watching.cancel()
        await asyncio.gather(watching, return_exceptions=True)
        server.stop()
        http.should_exit = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(serving, 10)
        await mongo.close()

    expected = rebuild(records).notes
    deliveries = {str(derive_id(n, hook, "webhook")) for n in expected}
    effects = Counter((d["source_message_id"], d["kind"], d["jurisdiction"]) for d in stored)
    by_note: dict[str, set[str]] = {}
    for got in receiver.received:
        by_note.setdefault(got.body["notification_id"], set()).add(got.delivery_id)
    lost = len(expected.keys() - {d["_id"] for d in stored}) + len(deliveries - receiver.applied.keys())
    duplicated = sum(n - 1 for n in effects.values()) + sum(len(ids) - 1 for ids in by_note.values())
    chaos.record("notify_crash_under_load", requests=sum(traffic.sent.values()) + len(deliveries), kills=kills,
                 lost=lost, duplicated=duplicated, projection_differences=len(found),
                 http_5xx=watcher.server_errors, recovery_s=recovery)  # fmt: skip
    assert all(got.valid_signature for got in receiver.received)
    assert (lost, duplicated, watcher.server_errors) == (0, 0, 0)
    assert escalations == len(cases)  # each breach's escalation served once in the county's inbox
    assert found == []


async def _register(address: str, city: str, receiver: Receiver) -> str:
    body = {"url": f"{receiver.base_url}/city", "consent_reference": "闽教基〔2026〕12号"}
    async with httpx.AsyncClient(base_url=address) as client:
        answer = await client.post("/v1/webhooks", json=body, headers={"Authorization": f"Bearer {city}"})
    assert answer.status_code == 201, answer.text
    receiver.secrets["/city"] = answer.json()["secret"]
    return str(answer.json()["webhook_id"])


async def _records(isolation: Any, sent: Counter[str]) -> list[tuple[str, bytes]]:
    records: list[tuple[str, bytes]] = []
    for topic, count in sent.items():
        found = await records_of(isolation.servers.kafka, isolation.topic(topic), lambda r, n=count: len(r) >= n)
        records += [(topic, r.value) for r in sorted(found, key=lambda r: (r.partition, r.offset))]
    return records


async def _settled(db: Any, records: list[tuple[str, bytes]], timeout: float) -> list[Any]:
    """The differences once the store holds what the topics say (every delivery settled), or those left at the end."""
    deadline = time.monotonic() + timeout
    while (found := await differences(db, records)) and time.monotonic() < deadline:  # noqa: ASYNC110 (no event)
        await asyncio.sleep(2.0)
    return found


async def _escalations_served(address: str, token: Any) -> int:
    auth = {"Authorization": f"Bearer {token('county', ev.COUNTY)}"}
    async with httpx.AsyncClient(base_url=address) as client:
        answer = await client.get("/v1/inbox", params={"kind": "stage_escalated", "limit": 1000}, headers=auth)
    assert answer.status_code == 200, answer.text
    return len(answer.json()["notifications"])

"""Crash under load for the transfer service (issue 15): transfer, started as `make run` starts it, is killed with
SIGKILL at a random moment while cases are applied for, examined and decided stage by stage over HTTP, and started
again. Requests that got no answer are retried with the same Idempotency-Key, as a client does. Every accepted request
has exactly one effect: each case is one gapless stream with one application, one examination and one approval per
stage, none is stuck (the four stages decided, no stage timer left armed), and the inbox filings rebuilt from the
case streams equal the stored ones."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from common import free_port
from stack import start_service, wait_ready

sys.path.insert(0, str(Path(__file__).resolve().parent))
import chaos

from xueji_contracts.calendar import local_date
from xueji_contracts.calendar.semesters import AUTUMN_FROM_MONTH, SPRING_FROM_MONTH, semester_of
from xueji_contracts.envelope import envelop
from xueji_contracts.messages.status import StatusState, StudentStatusRecorded
from xueji_contracts.policy import load_policy
from xueji_contracts.topics import STUDENT_STATUS
from xueji_kit.event_store import EventStore
from xueji_kit.store import connect
from xueji_transfer import consistency
from xueji_transfer.domain import Refused, TransferApplication, TransferRules
from xueji_transfer.domain.eligibility import check_initiation_window
from xueji_transfer.domain.record import school_year_of

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]
RECEIVING, SENDING = "3506020001", "3501020003"
STAGES = ("receiving_school", "receiving_bureau", "sending_school", "sending_bureau")
# Fujian's checklist (R30) for a household register that did not move, and the certificate image.
MATERIALS = ("registration_form", "status_basic_info", "household_register", "reason_proof", "certificate_image")
PARTY = {"receiving_school": ("school", RECEIVING), "receiving_bureau": ("county", RECEIVING[:6]),
         "sending_school": ("school", SENDING), "sending_bureau": ("county", SENDING[:6])}  # fmt: skip
CASES = 12  # x 6 requests each under `make test`


def _evidence(kind: str) -> dict[str, str]:
    return {"kind": kind, "uri": f"s3://materials/{kind}", "sha256": hashlib.sha256(kind.encode()).hexdigest()}


def _term(at: datetime) -> dict[str, Any]:
    """The semester the service's day falls in (its China date, as R27 reads it), from its first day to its last: the
    handling period holds every day of it, so the load is in time on any day of the year but the R25 blackout (a
    term of real school dates left out the winter and summer breaks, and a UTC date the evening before a month)."""
    semester = semester_of(local_date(at))
    first = date(
        semester.school_year + semester.half - 1, AUTUMN_FROM_MONTH if semester.half == 1 else SPRING_FROM_MONTH, 1
    )
    return {"start": first.isoformat(), "end": semester.last_day.isoformat(), "semester": semester.half}


def skip_in_the_blackout() -> None:
    """R25: from 15 July to 14 August (China dates) no transfer may be initiated and the rule has no exception; the
    transfer service runs on the wall clock, so on those days the load cannot apply at all. Skipped, saying so,
    rather than failed (or faked with a production clock setting)."""
    now = datetime.now(UTC)
    if TransferRules.from_policy(load_policy("fj")).windows.in_blackout(now):
        pytest.skip(f"R25 transfer blackout on {local_date(now)} (China): no application can be made today")


class Case:
    """One case's requests in order; `done` counts the answered ones. Each carries its own Idempotency-Key."""

    def __init__(self, n: int, run: str) -> None:
        self.n, self.key, self.done = n, f"{run}-{n}", 0
        self.student = f"stu_{run}_{n}"
        self.transfer_id = ""

    def application(self, at: datetime) -> dict[str, Any]:
        """The application as sent at `at` (the service judges it by its wall clock)."""
        return {
            "student_id": self.student, "status": "enrolled", "sending": {"code": SENDING},
            "receiving": {"code": RECEIVING}, "grade": 4, "target_grade": 4, "term": _term(at),
            "reason": "household_move", "materials": [_evidence(kind) for kind in MATERIALS],
        }  # fmt: skip

    def requests(self) -> list[tuple[str, str, tuple[str, str], dict[str, Any]]]:
        tid = self.transfer_id
        application = self.application(datetime.now(UTC))
        steps = [("apply", "/v1/transfers", ("school", RECEIVING), {"application": application}),
                 ("examine", f"/v1/transfers/{tid}/examination", ("school", RECEIVING),
                  {"conditions_met": True, "vacancy": True})]  # fmt: skip
        steps += [(s, f"/v1/transfers/{tid}/stages/{s}/decision", PARTY[s], {"decision": "approve"}) for s in STAGES]
        return steps


class Load:
    """Drives every case to its end on one running service; sets `reached` after `kill_at` answers."""

    def __init__(self, client: httpx.AsyncClient, token: Any, kill_at: int | None) -> None:
        self.client, self.token, self.kill_at = client, token, kill_at
        self.answered = self.server_errors = 0
        self.reached = asyncio.Event()

    async def drive(self, case: Case) -> None:
        while case.done < 6:
            name, path, who, body = case.requests()[case.done]
            headers = {"Authorization": f"Bearer {self.token(*who)}", "Idempotency-Key": f"{case.key}-{name}"}
            try:
                answer = await self.client.post(path, json=body, headers=headers, timeout=30)
            except httpx.HTTPError:
                return  # killed under it: retried with the same key after the restart
            if answer.status_code >= 500:
                self.server_errors += 1
                return
            assert answer.status_code in (200, 201), f"{name} {case.transfer_id}: {answer.text}"
            if name == "apply":
                case.transfer_id = answer.json()["transfer_id"]
            case.done += 1
            self.answered += 1
            if self.kill_at is not None and self.answered >= self.kill_at:
                self.reached.set()


def _transfer(isolation: Any, public_key: str, logs: Path, port: int | None = None, **settings: str) -> Any:
    """Transfer as `make run` starts it (scheduler off unless `settings` turn it on), ready to answer."""
    env = {"KAFKA_BOOTSTRAP_SERVERS": isolation.servers.kafka, "MONGODB_URI": isolation.servers.mongodb,
           "XUEJI_TOPIC_PREFIX": isolation.topic_prefix, "XUEJI_MONGODB_DATABASE": f"{isolation.database}_transfer",
           "XUEJI_JWT_PUBLIC_KEY": public_key, "XUEJI_LOG_FORMAT": "console", "XUEJI_SCHEDULER_ENABLED": "false",
           "XUEJI_RELAY_INTERVAL_SECONDS": "0.05", **settings}  # fmt: skip
    server = start_service("transfer", port or free_port(), env, logs)
    wait_ready([server], timeout=90)
    return server


async def _seed_records(isolation: Any, cases: list[Case]) -> None:
    """R28: the registry's student.status.v1 record of each student, which transfer's projection follows."""
    producer = AIOKafkaProducer(bootstrap_servers=isolation.servers.kafka, linger_ms=5)
    await producer.start()
    try:
        today = local_date(datetime.now(UTC))  # the service's day (China), which the record's grade is projected to
        for case in cases:
            record = StudentStatusRecorded(
                student_id=case.student,
                school_code=SENDING,
                county_code=SENDING[:6],
                state=StatusState.ENROLLED,
                status_number_masked="G3501********0000",
                grade=4,
                school_year=school_year_of(today),
            )
            message = envelop(record, producer="registry", province="35", occurred_at=datetime.now(UTC))
            await producer.send(isolation.topic(STUDENT_STATUS.name), message.model_dump_json().encode(),
                                key=case.student.encode())  # fmt: skip
        await producer.flush()
    finally:
        await producer.stop()


async def test_a_transfer_service_killed_while_deciding_stages_loses_and_duplicates_nothing(
    isolation: Any, signing_keys: tuple[str, str], token: Any, wait_for: Any, tmp_path: Path
) -> None:
    rng = random.Random()
    skip_in_the_blackout()
    cases = [Case(n, isolation.database[-8:]) for n in range(chaos.load(CASES))]
    total = 6 * len(cases)
    await _seed_records(isolation, cases)
    mongo = connect(isolation.servers.mongodb)
    db = mongo[f"{isolation.database}_transfer"]
    kills = errors = 0
    recovery = 0.0
    try:
        server = _transfer(isolation, signing_keys[1], tmp_path / "start")
        records = EventStore(db, "student_records").collection
        await wait_for(lambda: _count(records, len(cases)), timeout=60, interval=0.5)
        for round_ in range(chaos.rounds() + 1):
            last = round_ == chaos.rounds()
            remaining = total - sum(c.done for c in cases)
            kill_at = None if last else rng.randrange(max(1, remaining // 5), max(2, remaining * 4 // 5))
            try:
                async with httpx.AsyncClient(base_url=server.address) as client:
                    load = Load(client, token, kill_at)
                    drivers = asyncio.gather(*(load.drive(c) for c in cases if c.done < 6))
                    if last:
                        await drivers
                    else:
                        await asyncio.wait([asyncio.ensure_future(load.reached.wait()), drivers],
                                           return_when=asyncio.FIRST_COMPLETED)  # fmt: skip
                        await asyncio.sleep(rng.uniform(0.0, 0.3))  # somewhere in a decision's save and settle
                        server.process.kill()
                        server.process.wait(10)
                        killed = time.monotonic()
                        kills += 1
                        with contextlib.suppress(Exception):
                            await drivers
                    errors += load.server_errors
            finally:
                server.stop()
            if not last:
                server = _transfer(isolation, signing_keys[1], tmp_path / f"round{round_}")
                recovery = max(recovery, time.monotonic() - killed)
        stuck = [c.transfer_id or c.key for c in cases if c.done < 6]
        events = EventStore(db)
        lost, duplicated, differences = await _check(events, cases)
    finally:
        await mongo.close()
    chaos.record("transfer_crash_under_load", requests=total, kills=kills, lost=lost + len(stuck),
                 duplicated=duplicated, projection_differences=len(differences), http_5xx=errors,
                 recovery_s=recovery)  # fmt: skip
    assert stuck == []  # every request answered in the end
    assert (lost, duplicated, errors) == (0, 0, 0)
    assert differences == []


async def _count(collection: Any, wanted: int) -> bool:
    return bool(await collection.count_documents({}) >= wanted)


async def _check(events: EventStore, cases: list[Case]) -> tuple[int, int, list[str]]:
    """Lost and duplicated effects per accepted request, and every difference the transfer consistency checker finds
    between the inbox filings and stage timers stored and the case streams, or a case not decided to its end."""
    lost = duplicated = 0
    ids = [c.transfer_id for c in cases]
    replayed = await consistency.cases(events, ids)
    differences = [f"{d.subject}: {d.projection} {d.expected} != {d.found}"
                   for d in await consistency.differences(events, "35", ids)]  # fmt: skip
    for case in cases:
        tid = case.transfer_id
        found = replayed.get(tid)
        events_ = [e for c in found.commits for e in c["events"]] if found else []
        kinds = [e["type"] for e in events_]
        approved = [e["stage"] for e in events_ if e["type"] == "stage_approved"]
        for kind in ("transfer_applied", "conditions_examined"):
            lost, duplicated = lost + max(0, 1 - kinds.count(kind)), duplicated + max(0, kinds.count(kind) - 1)
        for stage in STAGES:
            lost, duplicated = lost + max(0, 1 - approved.count(stage)), duplicated + max(0, approved.count(stage) - 1)
        final = found.case if found else None
        if final is None or final.open_stage is not None or final.step != 6:
            differences.append(f"{tid}: not at step 6 with every stage decided")
    return lost, duplicated, differences


def test_the_load_s_applications_are_in_time_whatever_day_and_hour_it_runs_but_in_the_blackout() -> None:
    """The service judges the load's applications by its wall clock, so the semester they name must pass R27 on any day
    CI may run them: the winter and summer breaks, 1 February, the UTC evening before a month in China (16:00 UTC is
    midnight there). Only the national R25 blackout refuses every application (the load has no clock to set then)."""
    rules = TransferRules.from_policy(load_policy("fj"))
    case, start, refused = Case(0, "calendar"), datetime(2027, 1, 1, tzinfo=UTC), []
    for hours in range(0, 366 * 24, 4):  # 00:00, 04:00, ... UTC: both sides of midnight in China
        at = start + timedelta(hours=hours)
        if rules.windows.in_blackout(at):
            continue
        try:
            check_initiation_window(TransferApplication.model_validate(case.application(at)), at, rules)
        except Refused as refusal:
            refused.append(f"{at:%Y-%m-%d %H:%M} UTC: {refusal}")
    assert refused == [], f"{len(refused)} refused, e.g. {refused[:3]}"


def test_r25_in_the_blackout_the_load_is_skipped_saying_why_and_outside_it_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On 20 July (China) the three load tests that apply for transfers skip, naming R25, instead of failing on
    every application refused; on 14 August 16:00 UTC (15 August in China) they run."""
    import test_crash_under_load_transfer as load

    for at, skipped in ((datetime(2027, 7, 20, 3, tzinfo=UTC), True), (datetime(2027, 8, 14, 16, tzinfo=UTC), False)):

        class Frozen(datetime):
            moment = at

            @classmethod
            def now(cls, tz: Any = None) -> Frozen:
                return cls.fromtimestamp(cls.moment.timestamp(), tz)

        monkeypatch.setattr(load, "datetime", Frozen)
        if skipped:
            with pytest.raises(pytest.skip.Exception, match="R25 transfer blackout on 2027-07-20"):
                load.skip_in_the_blackout()
        else:
            load.skip_in_the_blackout()

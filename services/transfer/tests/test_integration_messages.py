"""Decisions as messages on transfer.decision.v1, signed by their operator: dead-lettered when malformed, unsigned
or refused; decided once when redelivered."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, timedelta

import pytest
from aiokafka import AIOKafkaProducer
from kafka_messages import published
from transfer_driver import RECEIVING, day, of_type, start

from xueji_contracts.envelope import envelop
from xueji_contracts.messages.status import StudentStatusRecorded
from xueji_contracts.messages.transfer import Decision, DecisionSubmitted, Stage
from xueji_kit import store_commands

pytestmark = pytest.mark.integration
MONDAY = day(date(2025, 3, 10))


Message = tuple[bytes, list[tuple[str, bytes]]]


def _decision(
    token, tid: str, stage: Stage, code: str, decision: Decision = Decision.APPROVE, sent_at: datetime | None = None
) -> Message:
    """A decision another system sends for operator t-<role> of `code`, signed with that operator's token."""
    role = "school" if len(code) == 10 else "county"
    payload = DecisionSubmitted(
        transfer_id=tid, stage=stage, decision=decision, operator=f"t-{role}", operator_code=code
    )
    at = sent_at or datetime.now(UTC)
    body = envelop(payload, producer="other", province="35", occurred_at=at).model_dump_json()
    return body.encode(), [("authorization", f"Bearer {token(role, code)}".encode())]


async def _send(bootstrap: str, topic: str, *messages: Message, key: str) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for body, headers in messages:
            await producer.send_and_wait(topic, body, key=key.encode(), headers=headers)
    finally:
        await producer.stop()


async def test_idempotent_redelivery_of_a_decision_decides_once(start_app, token, isolation, wait_for):
    t = await start(start_app, token, MONDAY)
    tid = await t.apply()
    await t.examine(tid)
    message = _decision(token, tid, Stage.RECEIVING_SCHOOL, RECEIVING)
    topic = isolation.topic("transfer.decision.v1")
    await _send(isolation.servers.kafka, topic, message, message, message, key=tid)

    async def approved() -> bool:
        return (await t.detail(tid))["step"] == 3

    await wait_for(approved)
    second = _decision(token, tid, Stage.RECEIVING_BUREAU, "350602")
    await _send(isolation.servers.kafka, topic, second, second, key=tid)  # after it: all three were consumed

    async def bureau_done() -> bool:
        return (await t.detail(tid))["step"] == 4

    await wait_for(bureau_done)
    history = [e["type"] for e in (await t.detail(tid))["history"]]
    assert history.count("stage_approved") == 2
    stages = await published(
        isolation.servers.kafka, isolation.topic("transfer.stage.v1"), lambda ms: of_type(ms, "StageOpened", tid)[2:]
    )
    assert [m["stage"] for m in of_type(stages, "StageClosed", tid)] == ["receiving_school", "receiving_bureau"]


async def test_r22_a_decision_made_before_midnight_that_arrives_after_it_counts_when_it_was_made(
    start_app, token, isolation, wait_for
):
    """The envelope's occurred_at, not the arrival, is when another system decided (within bounds: decision_time)."""
    t = await start(start_app, token, MONDAY)
    tid = await t.apply()
    await t.examine(tid)
    due = datetime.fromisoformat((await t.detail(tid))["open_stage"]["due_at"])
    assert due == day(date(2025, 3, 25), 0)  # 24:00 of Monday 24 March
    t.clock.now = due + timedelta(minutes=20)  # it arrives after midnight
    made = due - timedelta(minutes=1)
    message = _decision(token, tid, Stage.RECEIVING_SCHOOL, RECEIVING, sent_at=made)
    await _send(isolation.servers.kafka, isolation.topic("transfer.decision.v1"), message, key=tid)

    async def approved() -> bool:
        return (await t.detail(tid))["step"] == 3

    await wait_for(approved)
    detail = await t.detail(tid)
    (decided,) = [e for e in detail["history"] if e["type"] == "stage_approved"]
    assert datetime.fromisoformat(decided["at"]) == made
    # The bureau's stage opened on the 24th: its 10 working days count from then, Qingming (Friday 4 April) off, so it
    # is due at 24:00 of 8 April (opened on the 25th, on arrival, it would be a day later).
    assert datetime.fromisoformat(detail["open_stage"]["due_at"]) == day(date(2025, 4, 9), 0)


async def test_malformed_or_refused_decision_goes_to_the_dlq_and_the_consumer_goes_on(start_app, token, isolation):
    t = await start(start_app, token, MONDAY)
    tid = await t.apply()
    await t.examine(tid)
    topic = isolation.topic("transfer.decision.v1")
    good = _decision(token, tid, Stage.RECEIVING_SCHOOL, RECEIVING)
    malformed = json.loads(good[0])
    malformed["payload"]["decision"] = "maybe"
    refused = _decision(token, tid, Stage.SENDING_SCHOOL, "3501020003")  # not its turn (R21)
    outsider = _decision(token, tid, Stage.RECEIVING_SCHOOL, "3506020009")  # another school (R50)
    unsigned = (good[0], [])
    # Signed by one school's operator, naming another's jurisdiction: the claim is the token's, not the body's.
    impostor = (outsider[0], good[1])
    # A Hunan county's token (provinces sharing a signing key): not one this deployment, Fujian's, takes (R50).
    foreign = _decision(token, tid, Stage.RECEIVING_BUREAU, "430102")
    messages = [(b"{not json", good[1]), (json.dumps(malformed).encode(), good[1]), refused, outsider, foreign]
    await _send(isolation.servers.kafka, topic, *messages, unsigned, impostor, good, key=tid)

    letters = await published(isolation.servers.kafka, f"{topic}.dlq", lambda ms: len(ms) >= 7)
    reasons = [letter["reason"] for letter in letters]
    assert any("payload.decision" in r for r in reasons)
    assert any(r.startswith("R21: the sending_school stage is not open") for r in reasons)
    assert any(r.startswith("R50: only") for r in reasons)
    assert any(r.startswith("authorization: a decision message carries") for r in reasons)
    assert any(r.startswith("authorization: the token is t-school of 3506020001") for r in reasons)
    assert "authorization: code: token for province 43; this deployment serves 35" in reasons
    assert all(letter["original_topic"] == topic and letter["body"] for letter in letters)
    stages = await published(
        isolation.servers.kafka, isolation.topic("transfer.stage.v1"), lambda ms: of_type(ms, "StageClosed", tid)
    )
    assert [m["decided_by"] for m in of_type(stages, "StageClosed", tid)] == ["t-school"]
    assert {letter["key"] for letter in letters} == {tid}  # the case's key, so a replay keeps its order


async def test_a_decision_from_a_newer_producer_with_fields_unknown_here_is_decided(start_app, token, isolation):
    """Additive contracts (issue 15, defect 9): new fields in the envelope and the payload are ignored, not refused."""
    t = await start(start_app, token, MONDAY)
    tid = await t.apply()
    await t.examine(tid)
    body, headers = _decision(token, tid, Stage.RECEIVING_SCHOOL, RECEIVING)
    newer = json.loads(body)
    newer["trace_flags"] = "01"
    newer["payload"]["signed_on_device"] = {"kind": "tablet"}
    topic = isolation.topic("transfer.decision.v1")
    await _send(isolation.servers.kafka, topic, (json.dumps(newer).encode(), headers), key=tid)

    stages = await published(
        isolation.servers.kafka, isolation.topic("transfer.stage.v1"), lambda ms: of_type(ms, "StageClosed", tid)
    )
    assert [m["decided_by"] for m in of_type(stages, "StageClosed", tid)] == ["t-school"]
    assert (await t.detail(tid))["step"] == 3


def _status(student: str, grade: int) -> Message:
    payload = StudentStatusRecorded(
        student_id=student, school_code="3506020001", county_code="350602", state="enrolled",
        status_number_masked="G35060*********0012", grade=grade, school_year=2025,
    )  # fmt: skip
    body = envelop(payload, producer="registry", province="35", occurred_at=datetime.now(UTC)).model_dump_json()
    return body.encode(), []


async def test_statuses_are_followed_a_batch_at_a_time_in_order_per_student_and_once_each(
    start_app, token, isolation, wait_for
):
    """Issue 19: student.status.v1 is consumed in batches; each student's last status is its record (per-student
    order kept), a redelivered status is stored once, and a malformed one is dead-lettered alone."""
    store_commands.install()  # before the service's client is made
    t = await start(start_app, token, MONDAY)
    records = t.app.state.records
    topic = isolation.topic("student.status.v1")
    first, second = _status("stu_batch_1", 3), _status("stu_batch_2", 5)
    await _send(isolation.servers.kafka, topic, first, second, (b"{not json", []), first, key="k")
    await _send(isolation.servers.kafka, topic, _status("stu_batch_1", 4), _status("stu_batch_2", 6), key="k")

    async def followed() -> bool:
        one, two = await records.find("stu_batch_1"), await records.find("stu_batch_2")
        return one is not None and two is not None and (one.grade, two.grade) == (4, 6)

    await wait_for(followed)
    assert len(await records.streams.load("student:stu_batch_1")) == 2  # the redelivered first status: stored once
    # A class's statuses (one per student) are stored side by side: their commits go to the store grouped.
    with store_commands.counting(f"{isolation.database}_TransferSettings") as log:
        producer = AIOKafkaProducer(bootstrap_servers=isolation.servers.kafka, linger_ms=200)
        await producer.start()
        try:  # sent together, so they arrive in one fetch
            sent = [await producer.send(topic, _status(f"stu_class_{i}", 1)[0], key=b"k") for i in range(30)]
            await asyncio.gather(*sent)
        finally:
            await producer.stop()

        async def class_followed() -> bool:
            return all([await records.find(f"stu_class_{i}") for i in range(30)])

        await wait_for(class_followed)
    inserts = [c for c in log.commands if c.kind == "insert" and c.collection == "student_records"]
    assert sum(c.statements for c in inserts) == 30 and len(inserts) < 30
    letters = await published(isolation.servers.kafka, topic + ".dlq", lambda found: len(found) >= 1)
    assert [letter["offset"] for letter in letters] == [2]

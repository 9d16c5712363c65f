"""Decisions as messages on transfer.decision.v1: dead-lettered when malformed or refused, once when redelivered."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from aiokafka import AIOKafkaProducer
from transfer_driver import RECEIVING, day, of_type, published, start

from xueji_contracts.envelope import envelop
from xueji_contracts.messages.transfer import Decision, DecisionSubmitted, Stage

pytestmark = pytest.mark.integration
MONDAY = day(date(2025, 3, 10))


def _decision(tid: str, stage: Stage, code: str, decision: Decision = Decision.APPROVE) -> bytes:
    payload = DecisionSubmitted(
        transfer_id=tid, stage=stage, decision=decision, operator="system-x", operator_code=code
    )
    return envelop(payload, producer="other", province="35", occurred_at=datetime.now(UTC)).model_dump_json().encode()


async def _send(bootstrap: str, topic: str, *bodies: bytes, key: str) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for body in bodies:
            await producer.send_and_wait(topic, body, key=key.encode())
    finally:
        await producer.stop()


async def test_idempotent_redelivery_of_a_decision_decides_once(start_app, token, isolation, wait_for):
    t = await start(start_app, token, MONDAY)
    tid = await t.apply()
    await t.examine(tid)
    message = _decision(tid, Stage.RECEIVING_SCHOOL, RECEIVING)
    topic = isolation.topic("transfer.decision.v1")
    await _send(isolation.servers.kafka, topic, message, message, message, key=tid)

    async def approved() -> bool:
        return (await t.detail(tid))["step"] == 3

    await wait_for(approved)
    second = _decision(tid, Stage.RECEIVING_BUREAU, "350602")
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


async def test_malformed_or_refused_decision_goes_to_the_dlq_and_the_consumer_goes_on(start_app, token, isolation):
    t = await start(start_app, token, MONDAY)
    tid = await t.apply()
    await t.examine(tid)
    topic = isolation.topic("transfer.decision.v1")
    malformed = json.loads(_decision(tid, Stage.RECEIVING_SCHOOL, RECEIVING))
    malformed["payload"]["decision"] = "maybe"
    refused = _decision(tid, Stage.SENDING_SCHOOL, "3501020003")  # not its turn (R21)
    outsider = _decision(tid, Stage.RECEIVING_SCHOOL, "3506020009")  # another school (R50)
    good = _decision(tid, Stage.RECEIVING_SCHOOL, RECEIVING)
    bodies = (b"{not json", json.dumps(malformed).encode(), refused, outsider, good)
    await _send(isolation.servers.kafka, topic, *bodies, key=tid)

    letters = await published(isolation.servers.kafka, f"{topic}.dlq", lambda ms: len(ms) >= 4)
    reasons = [letter["reason"] for letter in letters]
    assert any("payload.decision" in r for r in reasons)
    assert any(r.startswith("R21: the sending_school stage is not open") for r in reasons)
    assert any(r.startswith("R50: only") for r in reasons)
    assert all(letter["original_topic"] == topic and letter["body"] for letter in letters)
    stages = await published(
        isolation.servers.kafka, isolation.topic("transfer.stage.v1"), lambda ms: of_type(ms, "StageClosed", tid)
    )
    assert [m["decided_by"] for m in of_type(stages, "StageClosed", tid)] == ["system-x"]
    assert {letter["key"] for letter in letters} == {tid}  # the case's key, so a replay keeps its order

"""The first message end to end over the real broker and store: registry -> student.status.v1 -> notify."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from xueji_contracts.calendar.deadlines import local_date
from xueji_contracts.topics import STUDENT_STATUS, dlq
from xueji_dedupe.app import create_app as create_dedupe
from xueji_dedupe.settings import DedupeSettings
from xueji_notify.app import create_app as create_notify
from xueji_notify.settings import NotifySettings
from xueji_registry.app import create_app as create_registry
from xueji_registry.domain.periods import school_year_of
from xueji_registry.settings import RegistrySettings

pytestmark = pytest.mark.integration

SCHOOL = "3506020001"
STUDENT = {
    "school_code": SCHOOL,
    "name": "林小明",
    "id_number": "11010519491231002X",
    "gender": "male",
    "birth_date": "1949-12-31",
    "grade": 1,
    "school_year": 2026,
}


async def _inbox(client, token) -> list[dict]:
    answer = await client.get("/v1/inbox", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.text
    return answer.json()["notifications"]


async def test_r52_enrollment_reaches_the_school_inbox_without_raw_id(start_app, isolation, token, wait_for):
    await start_app(create_dedupe, DedupeSettings, national_enabled=False)
    registry = await start_app(create_registry, RegistrySettings)
    notify = await start_app(create_notify, NotifySettings)
    school_token = token("school", SCHOOL)

    created = await registry.post("/v1/students", json=STUDENT, headers={"Authorization": f"Bearer {school_token}"})
    assert created.status_code in (201, 202), created.text
    student_id = created.json()["student_id"]

    async def settled() -> list[dict]:
        notes = await _inbox(notify, school_token)
        tasks = [n for n in notes if n["title_zh"].startswith("待办")]
        overdue = {n["subject_id"] for n in notes if n["title_zh"].startswith("已逾期")}
        # A task whose deadline had passed when it was opened (the year's R54 rosters are due 1 October, so from
        # then on in this run) is overdue at once: its timer, armed past due, still fires.
        past_due = {t["subject_id"] for t in tasks if datetime.fromisoformat(t["due_at"]) <= datetime.now(UTC)}
        return notes if len(tasks) >= 2 and len(notes) >= 3 and past_due <= overdue else []

    # The school hears the record exists, gets its R02 task (the status file within 1 month) and, as the year's
    # first record there, its R54 task (the annual rosters).
    notes = await wait_for(settled)
    assert {n["subject_id"] for n in notes} == {
        student_id,
        f"roster:{SCHOOL}:{school_year_of(local_date(datetime.now(UTC)))}",
    }
    assert STUDENT["id_number"] not in json.dumps(notes)
    titles = sorted(n["title_zh"] for n in notes)
    assert any(t.startswith("学籍已建立") for t in titles), titles
    assert any("R02" in t for t in titles) and any("R54" in t for t in titles), titles

    # The county above the school sees them (and the overdue ones escalated to it); a county elsewhere does not (R50).
    county = {(n["subject_id"], n["title_zh"]) for n in await _inbox(notify, token("county", "350602"))}
    assert county >= {(n["subject_id"], n["title_zh"]) for n in notes}
    assert await _inbox(notify, token("county", "350102")) == []


async def test_r06_invalid_id_number_is_refused_and_nothing_is_stored(start_app, token):
    registry = await start_app(create_registry, RegistrySettings)
    bad = {**STUDENT, "id_number": "110105194912310021"}
    answer = await registry.post(
        "/v1/students", json=bad, headers={"Authorization": f"Bearer {token('school', SCHOOL)}"}
    )
    assert answer.status_code == 422
    problem = answer.json()["detail"][0]
    assert problem["field"] == "id_number"
    assert "check character" in problem["reason"]
    assert await registry.app.state.runtime.events.collection.count_documents({}) == 0


async def test_r50_school_cannot_enroll_into_another_school(start_app, token):
    registry = await start_app(create_registry, RegistrySettings)
    answer = await registry.post(
        "/v1/students", json=STUDENT, headers={"Authorization": f"Bearer {token('school', '3506020002')}"}
    )
    assert answer.status_code == 403
    assert "outside the jurisdiction" in answer.json()["detail"]


async def test_unauthenticated_request_is_refused(start_app):
    registry = await start_app(create_registry, RegistrySettings)
    answer = await registry.post("/v1/students", json=STUDENT)
    assert answer.status_code == 401


async def test_malformed_message_goes_to_dlq_and_consumer_keeps_consuming(start_app, isolation, token, wait_for):
    notify = await start_app(create_notify, NotifySettings)
    topic = isolation.topic(STUDENT_STATUS.name)
    producer = AIOKafkaProducer(bootstrap_servers=isolation.servers.kafka)
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"{not json", key=b"k1")
        await producer.send_and_wait(topic, json.dumps({"message_id": "nope"}).encode(), key=b"k2")
        good = _status_message()
        await producer.send_and_wait(topic, good.encode(), key=b"k3")
    finally:
        await producer.stop()

    letters = await _read(isolation.servers.kafka, dlq(topic), 2)
    assert {letter["original_topic"] for letter in letters} == {topic}
    assert any("message_id" in letter["reason"] for letter in letters)
    assert all(letter["reason"] and letter["body"] for letter in letters)
    notes = await wait_for(lambda: _inbox(notify, token("school", SCHOOL)))
    assert len(notes) == 1


async def test_redelivered_message_changes_nothing(start_app, isolation, token, wait_for):
    notify = await start_app(create_notify, NotifySettings)
    topic = isolation.topic(STUDENT_STATUS.name)
    message = _status_message()
    producer = AIOKafkaProducer(bootstrap_servers=isolation.servers.kafka)
    await producer.start()
    try:
        for _ in range(3):
            await producer.send_and_wait(topic, message.encode(), key=b"same")
        await producer.send_and_wait(topic, _status_message().encode(), key=b"other")
    finally:
        await producer.stop()
    school = token("school", SCHOOL)
    notes = await wait_for(lambda: _has(notify, school, 2))
    assert len({n["source_message_id"] for n in notes}) == 2


async def _has(client, token, n):
    notes = await _inbox(client, token)
    return notes if len(notes) >= n else None


def _status_message() -> str:
    import uuid
    from datetime import UTC, datetime

    from xueji_contracts.envelope import envelop
    from xueji_contracts.messages.status import StudentStatusRecorded

    payload = StudentStatusRecorded(
        student_id=f"stu_{uuid.uuid4().hex}",
        school_code=SCHOOL,
        county_code="350602",
        state="enrolled",
        status_number_masked="G11010*********002X",
        grade=2,
        school_year=2026,
    )
    return envelop(payload, producer="test", province="35", occurred_at=datetime.now(UTC)).model_dump_json()


async def _read(bootstrap: str, topic: str, count: int, timeout_ms: int = 30_000) -> list[dict]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    try:
        found: list[dict] = []
        batches = await consumer.getmany(timeout_ms=timeout_ms, max_records=count)
        for records in batches.values():
            found += [json.loads(r.value) for r in records]
        while len(found) < count:
            more = await consumer.getmany(timeout_ms=timeout_ms, max_records=count)
            if not more:
                break
            for records in more.values():
                found += [json.loads(r.value) for r in records]
        return found
    finally:
        await consumer.stop()

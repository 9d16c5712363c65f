"""Component test: notify's student.status.v1 handler on FastStream's in-memory broker, real store."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from faststream.kafka import TestKafkaBroker

from xueji_contracts.envelope import envelop
from xueji_contracts.messages.status import StudentStatusRecorded
from xueji_contracts.topics import STUDENT_STATUS, dlq
from xueji_notify.app import build_runtime
from xueji_notify.settings import NotifySettings


def _message() -> dict:
    payload = StudentStatusRecorded(
        student_id=f"stu_{uuid.uuid4().hex}",
        school_code="3506020001",
        county_code="350602",
        state="enrolled",
        status_number_masked="G110105********002X",
        grade=1,
        school_year=2026,
    )
    return envelop(payload, producer="test", province="35", occurred_at=datetime.now(UTC)).model_dump(mode="json")


async def test_status_event_becomes_one_school_notification_and_bad_input_is_dead_lettered(isolation):
    settings = NotifySettings(**isolation.settings_env(), mongodb_database=f"{isolation.database}_component")
    runtime = build_runtime(settings)
    letters: list[dict] = []

    @runtime.broker.subscriber(dlq(settings.topic(STUDENT_STATUS.name)))
    async def collect(letter: dict) -> None:
        letters.append(letter)

    message = _message()
    async with TestKafkaBroker(runtime.broker) as broker:
        await broker.publish(message, settings.topic(STUDENT_STATUS.name))
        await broker.publish(message, settings.topic(STUDENT_STATUS.name))  # redelivery
        await broker.publish({"payload": {}}, settings.topic(STUDENT_STATUS.name))

    inbox = runtime.broker.context.get("inbox")
    notes = await inbox.query("3506020001", limit=10)
    assert len(notes) == 1
    assert notes[0]["jurisdiction"] == "3506020001"
    assert len(letters) == 1
    assert letters[0]["error_type"] == "ValidationError"
    assert "message_id" in letters[0]["reason"]
    await runtime.mongo.close()

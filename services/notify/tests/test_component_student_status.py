"""Component test: notify's student.status.v1 handler on FastStream's in-memory broker, real store."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from faststream.kafka import TestKafkaBroker

from xueji_contracts.envelope import envelop
from xueji_contracts.messages.status import StudentStatusRecorded
from xueji_contracts.topics import STUDENT_STATUS, dlq
from xueji_notify.app import build_runtime
from xueji_notify.settings import NotifySettings


def _message(status_recorded: Callable[..., StudentStatusRecorded]) -> dict:
    payload = status_recorded(student_id=f"stu_{uuid.uuid4().hex}")
    return envelop(payload, producer="test", province="35", occurred_at=datetime.now(UTC)).model_dump(mode="json")


async def test_status_event_becomes_one_school_notification_and_bad_input_is_dead_lettered(isolation, status_recorded):
    settings = NotifySettings(**isolation.settings_env(), mongodb_database=f"{isolation.database}_component")
    runtime = build_runtime(settings)
    letters: list[dict] = []

    @runtime.broker.subscriber(dlq(settings.topic(STUDENT_STATUS.name)))
    async def collect(letter: dict) -> None:
        letters.append(letter)

    message = _message(status_recorded)
    async with TestKafkaBroker(runtime.broker) as broker:
        await broker.publish(message, settings.topic(STUDENT_STATUS.name))
        await broker.publish(message, settings.topic(STUDENT_STATUS.name))  # redelivery
        await broker.publish({"payload": {}}, settings.topic(STUDENT_STATUS.name))

    inbox = runtime.broker.context.get("notify").inbox
    notes = await inbox.query("3506020001", limit=10)
    assert len(notes) == 1
    assert notes[0]["jurisdiction"] == "3506020001"
    assert len(letters) == 1
    assert letters[0]["error_type"] == "ValidationError"
    assert "message_id" in letters[0]["reason"]
    await runtime.mongo.close()


async def test_each_kind_of_change_is_titled_for_what_happened_in_both_languages(isolation, status_recorded):
    """Issue 21: a suspension reads 休学, not every message 学籍已建立. Issue 18: a move reads 转入 at the receiving
    school and 转出 (naming the school now attended) at the school left, each titled for what it is there."""
    from xueji_contracts.messages.status import StatusBefore, StatusChangeKind
    from xueji_notify.domain.status_notes import CHANGE_TITLES

    assert set(CHANGE_TITLES) == set(StatusChangeKind)
    assert len({zh for zh, _ in CHANGE_TITLES.values()}) == len({en for _, en in CHANGE_TITLES.values()}) == 19
    settings = NotifySettings(**isolation.settings_env(), mongodb_database=f"{isolation.database}_titles")
    runtime = build_runtime(settings)
    before = StatusBefore(state="enrolled", school_code="3506020001", county_code="350602", grade=3,
                          status_number_masked="G110105********002X")  # fmt: skip
    base = _message(status_recorded)["payload"] | {"sequence": 2, "before": before.model_dump(mode="json")}
    suspended = base | {"state": "suspended", "change": "suspended", "planned_end": "2027-08-31"}
    moved = base | {"student_id": "stu_moved", "school_code": "3506030001", "county_code": "350603",
                    "change": "transferred_in"}  # fmt: skip
    async with TestKafkaBroker(runtime.broker) as broker:
        for payload in (suspended, moved):
            message = envelop(StudentStatusRecorded.model_validate(payload), producer="test", province="35",
                              occurred_at=datetime.now(UTC))  # fmt: skip
            await broker.publish(message.model_dump(mode="json"), settings.topic(STUDENT_STATUS.name))
    inbox = runtime.broker.context.get("notify").inbox
    here = {n["subject_id"]: n for n in await inbox.query("3506020001", limit=10)}
    there = await inbox.query("3506030001", limit=10)
    assert here[suspended["student_id"]]["title_zh"].startswith("学生休学：")
    assert here[suspended["student_id"]]["title_zh"].endswith("至2027-08-31")
    assert here[suspended["student_id"]]["title_en"].startswith("Student suspended:")
    assert here["stu_moved"]["title_zh"].startswith("学生转出（省内）") and here["stu_moved"]["title_zh"].endswith(
        "转入 3506030001"
    )
    assert here["stu_moved"]["title_en"].startswith("Student moved to another school of the province")
    assert [(n["subject_id"], n["title_zh"][:4]) for n in there] == [("stu_moved", "学生转入")]
    assert not any(n["title_zh"].startswith("学籍已建立") for n in [*here.values(), *there])
    await runtime.mongo.close()

"""R52: an end-to-end run's structured logs carry no raw 18-character ID number, wherever one went in."""

from __future__ import annotations

import io
import json
import re
import sys

import notify_events as ev
import pytest
from aiokafka import AIOKafkaProducer

from xueji_contracts.topics import STUDENT_STATUS
from xueji_notify.app import create_app as create_notify
from xueji_notify.settings import NotifySettings
from xueji_registry.app import create_app as create_registry
from xueji_registry.settings import RegistrySettings

pytestmark = pytest.mark.integration
RAW_ID = "11010519491231002X"
# An 18-character resident ID anywhere in a line: 17 digits and a digit or X, not inside a longer token.
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
STUDENT = {
    "school_code": ev.SCHOOL, "name": "林小明", "id_number": RAW_ID, "gender": "male", "birth_date": "2019-03-01",
    "grade": 1, "school_year": 2026,
}  # fmt: skip


def test_the_pattern_finds_ids_and_leaves_masked_ones():
    assert ID_NUMBER.search(f'{{"id": "{RAW_ID}"}}') and ID_NUMBER.search("G11010519491231002X".lower()[1:])
    assert not ID_NUMBER.search("110105********002X") and not ID_NUMBER.search("G110105********002X")


class Tee(io.TextIOBase):
    """Keeps a copy of every line the services print (structlog writes each line to sys.stdout)."""

    def __init__(self, inner: io.TextIOBase) -> None:
        self.inner, self.parts = inner, []

    def write(self, text: str) -> int:
        self.parts.append(text)
        return self.inner.write(text)

    def flush(self) -> None:
        self.inner.flush()


async def test_r52_logs_of_an_end_to_end_run_hold_no_raw_id_number(start_app, isolation, token, wait_for, monkeypatch):
    tee = Tee(sys.stdout)
    monkeypatch.setattr(sys, "stdout", tee)

    def logs() -> str:
        return "".join(tee.parts)

    json_logs = {"log_format": "json", "log_level": "DEBUG"}
    registry = await start_app(create_registry, RegistrySettings, **json_logs)
    notify = await start_app(create_notify, NotifySettings, **json_logs)
    school = {"Authorization": f"Bearer {token('school', ev.SCHOOL)}"}

    created = await registry.post("/v1/students", json=STUDENT, headers=school)
    assert created.status_code in (201, 202), created.text
    refused = await registry.post("/v1/students", json={**STUDENT, "id_number": RAW_ID[:-1] + "1"}, headers=school)
    assert refused.status_code == 422
    # A malformed message carrying a raw ID is dead-lettered: its reason is logged, its body is not.
    producer = AIOKafkaProducer(bootstrap_servers=isolation.servers.kafka)
    await producer.start()
    try:
        bad = json.dumps({"message_id": "x", "payload": {"id_number": RAW_ID, "note": f"G{RAW_ID}"}})
        await producer.send_and_wait(isolation.topic(STUDENT_STATUS.name), bad.encode(), key=b"k")
    finally:
        await producer.stop()
    tid = ev.transfer_id()
    async with ev.Upstream(isolation) as upstream:
        await upstream.send(ev.opened(tid), ev.case(tid, "offline_opened"))

    async def school_inbox():
        notes = (await notify.get("/v1/inbox", headers=school)).json()["notifications"]
        return notes if len(notes) >= 2 else None

    await wait_for(school_inbox)
    await wait_for(lambda: "message_dead_lettered" in logs() and "notification_stored" in logs())
    logged = logs()
    assert logged.count("correlation_id") >= 3  # the run did log, with correlation ids
    assert not ID_NUMBER.search(logged), ID_NUMBER.search(logged)

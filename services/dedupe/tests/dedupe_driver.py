"""Dedupe's integration-test helpers: identity and check messages, sending them, reading what was published."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from aiokafka import AIOKafkaProducer

from bench.synthetic import id_number_for
from xueji_contracts.envelope import Envelope, envelop
from xueji_contracts.messages.dedupe import CheckPurpose, CheckRequested, IdentityRecorded

BORN = date(2014, 7, 3)
SIYU_ID = id_number_for("350203", BORN, 24)  # 陈思雨, a girl from Siming, Xiamen


def identity(student_id: str, name: str, *, version: int = 1, province: str = "35", **fields: Any) -> Envelope[Any]:
    base: dict[str, Any] = {"birth_date": BORN, "gender": "female", "school_code": "3502030001"}
    payload = IdentityRecorded(student_id=student_id, name=name, record_version=version, **(base | fields))
    return envelop(payload, producer="registry", province=province, occurred_at=datetime.now(UTC))


def check(student_id: str, name: str, *, purpose: CheckPurpose = CheckPurpose.CREATION, **fields: Any) -> Envelope[Any]:
    base: dict[str, Any] = {"birth_date": BORN, "gender": "female", "school_code": "3502030002"}
    payload = CheckRequested(student_id=student_id, name=name, purpose=purpose, **(base | fields))
    return envelop(payload, producer="registry", province="35", occurred_at=datetime.now(UTC))


async def send(bootstrap: str, topic: str, *messages: Envelope[Any] | bytes, key: bytes = b"k") -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for message in messages:
            body = message if isinstance(message, bytes) else message.model_dump_json().encode()
            await producer.send_and_wait(topic, body, key=key)
    finally:
        await producer.stop()


def answering(correlation: uuid.UUID) -> Any:
    return lambda found: [m for m in found if m["correlation_id"] == str(correlation)]


def auth(token: Any, role: str, code: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(role, code)}"}


def indexed(client: Any, count: int) -> Any:
    """A wait_for check: the service's in-memory index holds `count` records."""
    return lambda: len(client.app.state.dedupe.keeper.index) == count

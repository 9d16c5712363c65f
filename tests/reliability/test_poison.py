"""Poison on every consumed topic (issue 15): random bytes, invalid JSON, a non-envelope, wrong payload types (twice,
with one message id), an unknown type, an unsupported major version and a 900 KB body that is not UTF-8. Each
consumer group leaves exactly one complete dead letter per poisoned record, skips the unknown type (counted), commits
past all of them, and every service stays ready; a good message afterwards is handled (no letter), twice delivered."""

from __future__ import annotations

import json
import random
import sys
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY

sys.path.insert(0, str(Path(__file__).resolve().parent))
from kafka_io import committed, records_of, send_raw

from xueji_contracts.messages.status import StudentStatusRecorded
from xueji_contracts.topics import dlq
from xueji_dedupe.app import create_app as dedupe_app
from xueji_dedupe.settings import DedupeSettings
from xueji_kit.dlq import reassemble
from xueji_notify.app import create_app as notify_app
from xueji_notify.settings import NotifySettings
from xueji_registry.app import create_app as registry_app
from xueji_registry.settings import RegistrySettings
from xueji_transfer.app import create_app as transfer_app
from xueji_transfer.settings import TransferSettings

pytestmark = pytest.mark.integration

# The message type each consumed topic carries (its consumers act on it, so a wrong payload is their problem).
TYPES = {
    "transfer.case.v1": "TransferCaseChanged", "dedupe.verdict.v1": "VerdictGiven", "dedupe.review.v1": "ReviewCaseDecided",
    "registry.enrollment.v1": "SupplementaryRequested", "interprovince.file.v1": "StatusFileTransferred",
    "rules.exception.v1": "RuleExceptionRecorded", "transfer.decision.v1": "DecisionSubmitted",
    "interprovince.transfer.v1": "TransferCaseChanged", "student.status.v1": "StudentStatusRecorded",
    "registry.identity.v1": "IdentityRecorded", "dedupe.check.v1": "CheckRequested",
    "dedupe.national.verdict.v1": "VerdictGiven", "transfer.stage.v1": "StageOpened", "transfer.sla.v1": "StageWarning",
    "registry.compliance.v1": "ComplianceDeadlineChanged", "calendar.notice.v1": "CalendarNoticeLoaded",
}  # fmt: skip
LETTERS = [0, 1, 2, 3, 4, 6, 7]  # the offsets that must be dead-lettered; 5 is the unknown type
GOOD = StudentStatusRecorded.model_json_schema()["examples"][0]


def _envelope(kind: str, payload: Any, version: int = 1, message_id: str | None = None) -> bytes:
    return json.dumps({
        "message_id": message_id or str(uuid.uuid4()), "type": kind, "occurred_at": datetime.now(UTC).isoformat(),
        "producer": "poison", "province": "35", "correlation_id": str(uuid.uuid4()), "schema_version": version,
        "payload": payload,
    }).encode()  # fmt: skip


def _poison(kind: str, rng: random.Random) -> list[bytes]:
    big = bytearray(rng.randbytes(900 * 1024))
    big[0] = 0xFF
    wrong = {"student_id": 5, "school_code": ["x"], "at": "yesterday", "verdict": 1.5, "state": {}}
    twin = str(uuid.uuid4())
    return [
        rng.randbytes(200) + b"\xff",
        b'{"message_id": "not closed',
        b'{"hello": "world"}',
        _envelope(kind, wrong, message_id=twin),
        _envelope(kind, wrong, message_id=twin),
        _envelope("SomethingFromTheFuture", {"x": 1}),
        _envelope(kind, {}, version=2),
        bytes(big),
    ]


async def test_poison_on_every_consumed_topic_leaves_one_letter_each_and_the_services_go_on(
    start_app: Any, isolation: Any, wait_for: Any
) -> None:
    clients = [
        await start_app(registry_app, RegistrySettings, scheduler_enabled=False),
        await start_app(transfer_app, TransferSettings, scheduler_enabled=False),
        await start_app(dedupe_app, DedupeSettings),
        await start_app(notify_app, NotifySettings, scheduler_enabled=False),
    ]
    groups: dict[str, set[str]] = {}
    for client in clients:
        for subscriber in client.app.state.runtime.broker.subscribers:
            if subscriber.group_id:
                for topic in subscriber.topic_names:
                    groups.setdefault(topic, set()).add(subscriber.group_id)
    kafka, rng = isolation.servers.kafka, random.Random(15)
    names = {topic: topic.removeprefix(isolation.topic_prefix) for topic in groups}
    assert set(names.values()) <= set(TYPES), set(names.values()) - set(TYPES)
    status = isolation.topic("student.status.v1")
    for topic in groups:
        good = [_envelope("StudentStatusRecorded", GOOD, message_id=str(uuid.uuid4()))] * 2 if topic == status else []
        await send_raw(kafka, topic, _poison(TYPES[names[topic]], rng) + good)

    for topic, readers in groups.items():
        expected = Counter({(g, o): 1 for g in readers for o in LETTERS})

        def complete(found: list[Any], readers: set[str] = readers) -> bool:
            return len([r for r in found if json.loads(r.value).get("part", 0) == 0]) >= len(readers) * len(LETTERS)

        letters = [json.loads(r.value) for r in await records_of(kafka, dlq(topic), complete, timeout=90)]
        found = Counter((x["consumer_group"], x["offset"]) for x in letters if x.get("part", 0) == 0)
        assert found == expected, (topic, found - expected, expected - found)
        assert reassemble(letters)[1] == [], topic  # every letter whole
        skipped = REGISTRY.get_sample_value("xueji_messages_skipped_total", {"topic": topic, "reason": "unknown_type"})
        assert skipped == len(readers), topic
        end = 8 + (2 if topic == status else 0)
        for group in readers:
            await wait_for(lambda g=group, t=topic, e=end: _committed_is(kafka, g, t, e), timeout=30)
    for client in clients:
        assert (await client.get("/readyz")).status_code == 200, client.app.title


async def _committed_is(kafka: str, group: str, topic: str, end: int) -> bool:
    return await committed(kafka, group, topic) == end

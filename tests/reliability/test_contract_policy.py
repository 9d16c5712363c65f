"""Issue 15, defect 9: one policy for every consumed topic. Contracts are additive within a major `schema_version`:
a message type the consumer's contracts do not know is skipped and counted (xueji_messages_skipped_total), a field a
known type does not know (in the envelope or the payload, at any depth) is ignored and counted
(xueji_message_fields_ignored_total) while the message is handled, and a major version it does not read is
dead-lettered, also when the message is otherwise valid. Checked on topics of all four services, single-message and
batch consumers alike. HTTP bodies stay strict: an unknown field there is still a 422."""

from __future__ import annotations

import contextlib
import json
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY

sys.path.insert(0, str(Path(__file__).resolve().parent))
from kafka_io import committed, records_of, send_raw

from bench.synthetic import id_number_for
from xueji_contracts.envelope import envelop
from xueji_contracts.messages.exceptions import RuleExceptionRecorded
from xueji_contracts.messages.status import StudentStatusRecorded
from xueji_contracts.messages.transfer import CaseOutcome, TransferCaseChanged
from xueji_contracts.topics import (
    DEDUPE_CHECK,
    DEDUPE_VERDICT,
    RULE_EXCEPTION,
    STUDENT_STATUS,
    TRANSFER_CASE,
    TRANSFER_DECISION,
    dlq,
)
from xueji_dedupe.app import create_app as dedupe_app
from xueji_dedupe.settings import DedupeSettings
from xueji_notify.app import create_app as notify_app
from xueji_notify.settings import NotifySettings
from xueji_registry.app import create_app as registry_app
from xueji_registry.settings import RegistrySettings
from xueji_transfer.app import create_app as transfer_app
from xueji_transfer.settings import TransferSettings

pytestmark = pytest.mark.integration


def _envelope(kind: str, payload: dict[str, Any], version: int = 1) -> bytes:
    return json.dumps({
        "message_id": str(uuid.uuid4()), "type": kind, "occurred_at": datetime.now(UTC).isoformat(),
        "producer": "a-newer-system", "province": "35", "correlation_id": str(uuid.uuid4()),
        "schema_version": version, "payload": payload,
    }).encode()  # fmt: skip


def _valid_case_change(version: int) -> bytes:
    """A TransferCaseChanged registry would act on, in every respect but its major version."""
    payload = TransferCaseChanged(
        transfer_id="tr_v2", outcome=CaseOutcome.COMPLETED, student_id="stu_0000000000000000000000000000000a",
        sending_school="3506020301", receiving_school="3506030301", at=datetime.now(UTC),
    )  # fmt: skip
    message = envelop(payload, producer="transfer", province="35", occurred_at=datetime.now(UTC))
    return json.dumps({**message.model_dump(mode="json"), "schema_version": version}).encode()


def _skipped(topic: str) -> float:
    return REGISTRY.get_sample_value("xueji_messages_skipped_total", {"topic": topic, "reason": "unknown_type"}) or 0


async def test_unknown_types_are_skipped_and_counted_and_unsupported_versions_dead_lettered(
    start_app: Any, isolation: Any, wait_for: Any
) -> None:
    await start_app(registry_app, RegistrySettings, scheduler_enabled=False)
    await start_app(transfer_app, TransferSettings, scheduler_enabled=False)
    await start_app(dedupe_app, DedupeSettings)
    await start_app(notify_app, NotifySettings, scheduler_enabled=False)
    kafka = isolation.servers.kafka
    # Single-message consumers (registry, transfer, notify) and batch consumers (registry's verdicts, dedupe's checks),
    # with how many consumer groups read each (each judges, skips and dead-letters for itself).
    groups = {TRANSFER_CASE: 2, TRANSFER_DECISION: 1, STUDENT_STATUS: 2, DEDUPE_VERDICT: 1, DEDUPE_CHECK: 1}
    readers = {isolation.topic(spec.name): n for spec, n in groups.items()}
    topics = list(readers)
    for topic in topics:
        unsupported = _valid_case_change(2) if topic.endswith(TRANSFER_CASE.name) else _envelope("StageOpened", {}, 2)
        await send_raw(kafka, topic, [_envelope("SomethingFromTheFuture", {"x": 1}), unsupported])

    for topic, n in readers.items():
        await wait_for(lambda topic=topic, n=n: _skipped(topic) == n, timeout=45)
        letters = [json.loads(r.value) for r in await records_of(kafka, dlq(topic), lambda f, n=n: len(f) >= n)]
        assert [letter["offset"] for letter in letters] == [1] * n, topic  # the unknown type left no letter
        assert len({letter["consumer_group"] for letter in letters}) == n, letters
        for letter in letters:
            assert letter["error_type"] == "UnsupportedSchemaVersion" and "schema_version 2" in letter["reason"]


NEWER = {"added_in_1_1": {"anything": [1, 2]}}  # what a newer producer of the same major version might add


def _newer(kind: str, payload: dict[str, Any], correlation: str | None = None) -> bytes:
    """A valid message of a known type and version, with fields this consumer's contracts do not know: in the
    envelope, in the payload and in a model nested in the payload (where the type has one)."""
    message = json.loads(_envelope(kind, {**payload, **NEWER}))
    return json.dumps({**message, **NEWER, "correlation_id": correlation or message["correlation_id"]}).encode()


def _ignored(topic: str, kind: str) -> float:
    labels = {"topic": topic, "type": kind}
    return REGISTRY.get_sample_value("xueji_message_fields_ignored_total", labels) or 0


async def _all_of(kafka: str, topic: str, seconds: float = 2.0) -> list[Any]:
    found: list[Any] = []
    with contextlib.suppress(AssertionError):
        found = await records_of(kafka, topic, lambda _: False, timeout=seconds)
    return found


async def test_fields_a_newer_producer_added_are_ignored_and_the_message_handled_by_every_consumer(
    start_app: Any, isolation: Any, wait_for: Any, token: Any
) -> None:
    registry = await start_app(registry_app, RegistrySettings, scheduler_enabled=False)
    transfer = await start_app(transfer_app, TransferSettings, scheduler_enabled=False)
    dedupe = await start_app(dedupe_app, DedupeSettings)
    notify = await start_app(notify_app, NotifySettings, scheduler_enabled=False)
    kafka = isolation.servers.kafka
    born = datetime(2014, 7, 3, tzinfo=UTC).date()
    person = {
        "student_id": "stu_newer_check", "name": "陈思雨", "id_number": id_number_for("350203", born, 24),
        "birth_date": born.isoformat(), "gender": "female", "school_code": "3502030002",
    }  # fmt: skip
    verdict = {
        "verdict": "unique", "student_id": "stu_not_pending", "score": 0.01, "reason_zh": "无", "reason_en": "none",
        "features": [{"name": "name", "level": "differ", "similarity": 0.1, "weight": -2.0, **NEWER}],
    }  # fmt: skip
    status = StudentStatusRecorded.model_json_schema()["examples"][0]
    exception = RuleExceptionRecorded.model_json_schema()["examples"][0]
    case = json.loads(_valid_case_change(1))["payload"] | {"outcome": "opened"}  # registry moves no one on it
    check_correlation = str(uuid.uuid4())
    sent = {  # topic -> (type, message, the consumer groups that read it)
        DEDUPE_CHECK: ("CheckRequested", _newer("CheckRequested", person, check_correlation), 1),
        DEDUPE_VERDICT: ("VerdictGiven", _newer("VerdictGiven", verdict), 1),
        STUDENT_STATUS: ("StudentStatusRecorded", _newer("StudentStatusRecorded", status), 2),
        RULE_EXCEPTION: ("RuleExceptionRecorded", _newer("RuleExceptionRecorded", exception), 2),
        TRANSFER_CASE: ("TransferCaseChanged", _newer("TransferCaseChanged", case), 2),
    }
    for spec, (_, message, _) in sent.items():
        await send_raw(kafka, isolation.topic(spec.name), [message])

    # The effects happen: dedupe answers the check (batch consumer), transfer keeps the student's record, registry
    # keeps the exception for the audit.
    answers = await records_of(
        kafka, isolation.topic(DEDUPE_VERDICT.name),
        lambda found: any(json.loads(r.value)["correlation_id"] == check_correlation for r in found), timeout=45,
    )  # fmt: skip
    assert any(json.loads(r.value)["payload"]["student_id"] == "stu_newer_check" for r in answers)
    records = transfer.app.state.runtime.db["student_records"]
    await wait_for(lambda: records.count_documents({}), timeout=45)
    audit = registry.app.state.runtime.db["rule_exceptions"]
    await wait_for(lambda: audit.count_documents({"_id": exception["exception_id"]}), timeout=45)
    for spec, (kind, _, readers) in sent.items():
        topic = isolation.topic(spec.name)
        # Every consumer group ignored the new fields (envelope, payload, nested) and handled the message ...
        await wait_for(lambda t=topic, k=kind, n=readers: _ignored(t, k) >= n * 2, timeout=45)
        groups = [g for c in (registry, transfer, dedupe, notify) for g in _groups(c, topic)]
        assert len(groups) == readers, (topic, groups)
        for group in groups:  # past the message (on the verdict topic, dedupe's answer may come first)
            await wait_for(lambda g=group, t=topic: _committed_past(kafka, g, t, 1), timeout=45)
        # ... and dead-lettered nothing.
        assert await _all_of(kafka, dlq(topic)) == [], topic

    # HTTP bodies stay strict: the same unknown field in a body whose model is the contract's is refused.
    body = {k: v for k, v in person.items() if k != "student_id"}
    auth = {"Authorization": f"Bearer {token('school', '3502030002')}"}
    assert (await dedupe.post("/v1/checks", json=body, headers=auth)).status_code == 200
    refused = await dedupe.post("/v1/checks", json=body | NEWER, headers=auth)
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"][0]["field"] == "added_in_1_1"


def _groups(client: Any, topic: str) -> list[str]:
    return [
        s.group_id for s in client.app.state.runtime.broker.subscribers if s.group_id and topic in s.topic_names
    ]  # fmt: skip


async def _committed_past(kafka: str, group: str, topic: str, end: int) -> bool:
    return await committed(kafka, group, topic) >= end

"""Issue 15, defect 9: one policy for every consumed topic. Contracts are additive within a major `schema_version`:
a message type the consumer's contracts do not know is skipped and counted (xueji_messages_skipped_total), and a
major version it does not read is dead-lettered, also when the message is otherwise valid. Checked on topics of all
four services, single-message and batch consumers alike."""

from __future__ import annotations

import json
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY

sys.path.insert(0, str(Path(__file__).resolve().parent))
from kafka_io import records_of, send_raw

from xueji_contracts.envelope import envelop
from xueji_contracts.messages.transfer import CaseOutcome, TransferCaseChanged
from xueji_contracts.topics import DEDUPE_CHECK, DEDUPE_VERDICT, STUDENT_STATUS, TRANSFER_CASE, TRANSFER_DECISION, dlq
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

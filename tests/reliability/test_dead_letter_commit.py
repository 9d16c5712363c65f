"""Issue 15, defect 2: a consumer never commits past a message whose dead letter was not written. The first attempt
to write the letter fails (the broker refuses it); the message is consumed again and its letter written once."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from kafka_io import records_of, send_raw

import xueji_kit.deadletter as deadletter
from xueji_contracts.topics import TRANSFER_CASE, dlq
from xueji_registry.app import create_app
from xueji_registry.settings import RegistrySettings

pytestmark = pytest.mark.integration


async def test_a_dead_letter_that_failed_to_be_written_is_written_before_the_offset_moves_on(
    start_app: Any, isolation: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = deadletter.dead_letter
    failures = []

    async def refused_once(broker: Any, record: Any, *args: Any, **kwargs: Any) -> None:
        if not failures:
            failures.append(record.offset)
            raise RuntimeError("the broker refused the dead letter")
        await real(broker, record, *args, **kwargs)

    monkeypatch.setattr(deadletter, "dead_letter", refused_once)
    await start_app(create_app, RegistrySettings, scheduler_enabled=False)
    topic = isolation.topic(TRANSFER_CASE.name)
    await send_raw(isolation.servers.kafka, topic, [b"{not json"])

    letters = await records_of(isolation.servers.kafka, dlq(topic), lambda found: len(found) >= 1, timeout=45)
    assert failures == [0]
    assert [json.loads(r.value)["offset"] for r in letters] == [0]

"""docs/operations.md, "Draining a dead-letter topic" and "Replaying a projection", executed on notify.

A bug in how notify files a student's status dead-letters that message (`xueji_dead_letters_total` on /metrics, the
alert's metric); the engineer lists what a replay would do, the fix is deployed, and `python -m xueji_kit.dlq replay
--topic <topic>.dlq --error-type RuntimeError --group xueji-ops-dlq-replay` puts the message back: the school's
notification appears, once; the same replay again replays nothing. Then the inbox projection is dropped, the group
`notify` reset to the earliest offset of student.status.v1 and notify started again: the projection is what it was.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from kafka_messages import published
from runbook_support import metric_value

from xueji_contracts.envelope import envelop
from xueji_contracts.topics import STUDENT_STATUS, dlq
from xueji_kit.store import connect
from xueji_notify.app import create_app
from xueji_notify.settings import NotifySettings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

BROKEN = "stu_broken"
GUIDE = Path(__file__).resolve().parents[2] / "docs" / "operations.md"


async def _send(isolation: Any, statuses: list[Any]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=isolation.servers.kafka)
    await producer.start()
    try:
        for status in statuses:
            message = envelop(status, producer="registry", province="35", occurred_at=datetime.now(UTC))
            await producer.send_and_wait(
                isolation.topic(STUDENT_STATUS.name), message.model_dump_json().encode(), key=status.student_id.encode()
            )
    finally:
        await producer.stop()


async def _notes(db: Any) -> list[dict[str, Any]]:
    return sorted([d async for d in db["notifications"].find({})], key=lambda d: str(d["_id"]))


async def _reset_to_earliest(isolation: Any, group: str, topic: str) -> None:
    """What `kafka-consumer-groups.sh --group <group> --topic <topic> --reset-offsets --to-earliest --execute` does
    (Kafka's tools are not part of this repository's local stack): the group's offsets set to the beginning."""
    consumer = AIOKafkaConsumer(bootstrap_servers=isolation.servers.kafka, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or {0})]
        consumer.assign(partitions)
        beginning = await consumer.beginning_offsets(partitions)
        await consumer.commit({tp: beginning[tp] for tp in partitions})
    finally:
        await consumer.stop()


async def test_a_dead_lettered_status_is_replayed_after_the_fix_and_the_inbox_replays_to_what_it_was(
    service_process, isolation, operator, status_recorded, wait_for, monkeypatch, tmp_path
):
    import xueji_notify.service as notify_service

    filed = notify_service.status_recorded

    def bug(message: Any, *args: Any) -> Any:
        if message.payload.student_id == BROKEN:
            raise RuntimeError("status_recorded: no title for this change")
        return filed(message, *args)

    monkeypatch.setattr(notify_service, "status_recorded", bug)
    client = connect(isolation.servers.mongodb)
    try:
        await _drill(
            service_process, isolation, operator, status_recorded, wait_for, monkeypatch, client, filed, tmp_path
        )
    finally:
        await client.close()


async def _drill(
    service_process, isolation, operator, status_recorded, wait_for, monkeypatch, client, filed, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    import xueji_notify.service as notify_service

    topic = isolation.topic(STUDENT_STATUS.name)
    async with service_process(create_app, NotifySettings, handler_retries=1) as notify:
        database = notify.app.state.runtime.db.name
        db = client[database]
        await _send(isolation, [status_recorded("stu_1"), status_recorded(BROKEN), status_recorded("stu_2")])

        async def dead_lettered() -> float:
            return await metric_value(notify, "xueji_dead_letters_total", topic=topic, error="RuntimeError")

        assert await wait_for(dead_lettered, timeout=60) == 1  # the alert XuejiDeadLetters' metric
        assert {d["subject_id"] for d in await _notes(db)} == {"stu_1", "stu_2"}

        # 1. Read them (the console consumer prints each letter's value on a line) and group them by reason, as the
        # guide's jq line does; then what a replay would do. Nothing moves.
        letters = await published(isolation.servers.kafka, dlq(topic), bool)
        (tmp_path / "letters.jsonl").write_text("".join(json.dumps(x) + "\n" for x in letters))
        (grouping,) = re.findall(r"`(jq -r [^`]+)`", GUIDE.read_text())
        run = partial(subprocess.run, cwd=tmp_path, capture_output=True, text=True, timeout=30)
        grouped = await asyncio.to_thread(run, ["bash", "-c", grouping])
        assert grouped.returncode == 0, grouped.stderr
        assert grouped.stdout.split() == ["1", "status_recorded:", "no", "title", "for", "this", "change"]
        dry = await operator(database, "xueji_kit.dlq", "replay", "--topic", dlq(topic), "--dry-run")
        assert dry.returncode == 0, dry.stderr
        assert f"would replay {topic}[0]@1" in dry.stdout and "RuntimeError" in dry.stdout

        # 2. Fix the cause (the fix deployed), 3. replay the ones to retry.
        monkeypatch.setattr(notify_service, "status_recorded", filed)
        argv = ["replay", "--topic", dlq(topic), "--error-type", "RuntimeError", "--group", "xueji-ops-dlq-replay"]
        replayed = await operator(database, "xueji_kit.dlq", *argv)
        assert replayed.returncode == 0, replayed.stderr
        assert f"replayed {topic}[0]@1" in replayed.stdout

        async def all_filed() -> list[dict[str, Any]]:
            notes = await _notes(db)
            return notes if {d["subject_id"] for d in notes} == {"stu_1", BROKEN, "stu_2"} else []

        before = await wait_for(all_filed, timeout=60)
        assert len(before) == 3

        again = await operator(database, "xueji_kit.dlq", *argv)  # the group has replayed it: nothing twice
        assert again.returncode == 0, again.stderr
        assert f"replayed {topic}" not in again.stdout and f"nothing to replay on {dlq(topic)}" in again.stdout

    # Replaying a projection: 1. stop the consumer, 2. drop the projection, 3. reset the group, 4. start it again.
    await db["notifications"].drop()
    group = NotifySettings(topic_prefix=isolation.topic_prefix).group("notify")
    await _reset_to_earliest(isolation, group, topic)
    async with service_process(create_app, NotifySettings) as notify:

        async def rebuilt() -> list[dict[str, Any]]:
            notes = await _notes(db)
            return notes if len(notes) >= 3 else []

        after = await wait_for(rebuilt, timeout=60)
        assert await metric_value(notify, "xueji_messages_consumed_total", topic=topic) >= 4
    assert [{k: v for k, v in d.items() if k != "created_at"} for d in after] == [
        {k: v for k, v in d.items() if k != "created_at"} for d in before
    ]

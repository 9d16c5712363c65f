"""docs/operations.md, "Replaying a projection", for transfer's copy of the registry's records (`student_records`,
group `transfer.student_status`, which every application is checked against, R28): stopped, the collection dropped
("if the projection is wrong rather than incomplete"), the group reset to the earliest offset, started again: each
record is what it was."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from runbook_support import groups_of, reset_group_to

from xueji_contracts.envelope import envelop
from xueji_contracts.topics import STUDENT_STATUS
from xueji_kit.store import connect
from xueji_transfer.app import create_app
from xueji_transfer.records import StudentRecords
from xueji_transfer.settings import TransferSettings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]


async def test_transfers_student_records_dropped_and_replayed_are_what_they_were(
    service_process, isolation, status_recorded, wait_for
):
    producer = AIOKafkaProducer(bootstrap_servers=isolation.servers.kafka)
    await producer.start()
    try:
        for student, grade in (("stu_1", 1), ("stu_2", 3), ("stu_1", 2)):
            message = envelop(status_recorded(student, grade), producer="registry", province="35",
                              occurred_at=datetime.now(UTC))  # fmt: skip
            await producer.send_and_wait(
                isolation.topic(STUDENT_STATUS.name), message.model_dump_json().encode(), key=student.encode()
            )
    finally:
        await producer.stop()
    client = connect(isolation.servers.mongodb)
    try:
        async with service_process(create_app, TransferSettings) as transfer:
            db = client[transfer.app.state.runtime.db.name]
            records = StudentRecords(db)

            async def both() -> dict[str, Any]:
                found = {s: await records.find(s) for s in ("stu_1", "stu_2")}
                return found if all(found.values()) and found["stu_1"].grade == 2 else {}

            before = await wait_for(both, timeout=60)
        await db["student_records"].drop()
        assert await records.find("stu_1") is None
        group = TransferSettings(topic_prefix=isolation.topic_prefix).group("transfer.student_status")
        assert group in await groups_of(isolation, "transfer")
        await reset_group_to(isolation, group, datetime(2000, 1, 1, tzinfo=UTC))  # --to-earliest
        async with service_process(create_app, TransferSettings):
            after = await wait_for(both, timeout=60)
        assert after == before
    finally:
        await client.close()

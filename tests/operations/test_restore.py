"""docs/operations.md, "Restoring a database", executed on notify without mongodump (not part of the local stack):
a copy of its database stands for the backup. After the backup notify consumes more; the service is stopped, its
database replaced by the backup, each of its consumer groups moved to the backup's time (what
`kafka-consumer-groups.sh --reset-offsets --to-datetime <backup time> --execute` does) and notify started again: it
catches up from Kafka to what it had before the restore, each message once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from runbook_support import groups_of, reset_group_to

from xueji_contracts.envelope import envelop
from xueji_contracts.topics import STUDENT_STATUS
from xueji_kit.store import connect
from xueji_notify.app import create_app
from xueji_notify.settings import NotifySettings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]


async def _send(isolation: Any, status: Any) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=isolation.servers.kafka)
    await producer.start()
    try:
        message = envelop(status, producer="registry", province="35", occurred_at=datetime.now(UTC))
        await producer.send_and_wait(
            isolation.topic(STUDENT_STATUS.name), message.model_dump_json().encode(), key=status.student_id.encode()
        )
    finally:
        await producer.stop()


async def _copy(source: Any, target: Any) -> None:
    for name in await source.list_collection_names():
        docs = [d async for d in source[name].find({})]
        await target[name].drop()
        if docs:
            await target[name].insert_many(docs)


async def test_a_restored_notify_catches_up_from_the_backups_time_to_what_it_had(
    service_process, isolation, status_recorded, wait_for
):
    client = connect(isolation.servers.mongodb)
    try:
        async with service_process(create_app, NotifySettings) as notify:
            database = notify.app.state.runtime.db.name
            db, backup = client[database], client[f"{database}_backup"]

            async def subjects(count: int) -> list[dict[str, Any]]:
                notes = sorted([d async for d in db["notifications"].find({})], key=lambda d: str(d["_id"]))
                return notes if len(notes) == count else []

            await _send(isolation, status_recorded("stu_1"))
            await wait_for(lambda: subjects(1), timeout=60)
            await asyncio.sleep(1)  # the consumer's offsets committed
            backup_time = datetime.now(UTC)
            await _copy(db, backup)  # the backup (mongodump)
            await asyncio.sleep(1)
            await _send(isolation, status_recorded("stu_2"))  # consumed after the backup
            before = await wait_for(lambda: subjects(2), timeout=60)

        # 1. stopped; 2. restored, replacing what is there; 3. its groups moved to the backup's time; 4. started.
        await _copy(backup, db)
        assert len(await subjects(1)) == 1
        groups = await groups_of(isolation, "notify")
        assert NotifySettings(topic_prefix=isolation.topic_prefix).group("notify") in groups
        for group in groups:
            await reset_group_to(isolation, group, backup_time - timedelta(seconds=1))
        async with service_process(create_app, NotifySettings):
            after = await wait_for(lambda: subjects(2), timeout=60)
            await asyncio.sleep(2)
            assert len(await subjects(2)) == 2, "re-reading a message already in the backup does nothing"
        assert after == before
    finally:
        await client.close()

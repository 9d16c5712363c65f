"""notify consumes student.status.v1 in batches (issue 19), over the real broker and store: a class's statuses are
stored in grouped inserts, a redelivered status adds nothing, a malformed one is dead-lettered alone with its reason."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from kafka_messages import published, sent_together

from xueji_contracts.envelope import envelop
from xueji_kit import store_commands
from xueji_notify.app import create_app
from xueji_notify.settings import NotifySettings

pytestmark = pytest.mark.integration
SCHOOL = "3506020001"


async def test_a_class_of_statuses_is_stored_a_batch_at_a_time_once_each_and_a_malformed_one_dead_lettered(
    start_app, isolation, status_recorded, wait_for
):
    store_commands.install()  # before the service's client is made
    notify = await start_app(create_app, NotifySettings)
    inbox = notify.app.state.notify.inbox
    topic = isolation.topic("student.status.v1")
    bodies = [
        envelop(status_recorded(student_id=f"stu_class_{i}"), producer="registry", province="35",
                occurred_at=datetime.now(UTC)).model_dump_json().encode()
        for i in range(30)
    ]  # fmt: skip
    with store_commands.counting(f"{isolation.database}_NotifySettings") as log:
        # A class, its first status redelivered and a malformed message between them: one fetch.
        await sent_together(isolation.servers.kafka, topic, [*bodies[:10], b'{"payload": {}}', *bodies[10:], bodies[0]])

        async def all_stored() -> bool:
            return len(await inbox.query(SCHOOL, limit=100)) >= 30

        await wait_for(all_stored)
    notes = await inbox.query(SCHOOL, limit=100)
    assert sorted(n["subject_id"] for n in notes) == sorted(f"stu_class_{i}" for i in range(30))  # once each
    inserts = [c for c in log.commands if c.kind == "insert" and c.collection == "notifications"]
    assert sum(c.statements for c in inserts) >= 30 and len(inserts) < 30
    letters = await published(isolation.servers.kafka, topic + ".dlq", lambda found: len(found) >= 1)
    assert [(letter["offset"], letter["error_type"]) for letter in letters] == [(10, "ValidationError")]
    assert "message_id" in letters[0]["reason"]

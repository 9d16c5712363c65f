"""Compliance deadlines over the real broker and store (R02): enrollment opens the status-file deadline, armed on the
kit's timers; the school meeting it in time ends it; otherwise due-soon, then overdue flagged to the county."""

from __future__ import annotations

from datetime import timedelta

import pytest
from http_fixtures import enrolled, signed_in
from kafka_messages import published
from registry_driver import advance_to

from xueji_contracts.topics import REGISTRY_COMPLIANCE
from xueji_registry.app import create_app
from xueji_registry.settings import RegistrySettings

pytestmark = pytest.mark.integration
SCHOOL = "3506020001"
STUDENT = {"school_code": SCHOOL, "gender": "female", "birth_date": "2019-03-15", "grade": 1, "school_year": 2026}
FILE = {"kind": "status_file", "uri": "s3://files/stu.pdf", "sha256": "cd" * 32}

_as = signed_in(SCHOOL)


def _of(messages: list[dict], student_id: str) -> list[dict]:
    return [m["payload"] for m in messages if m["payload"]["subject_id"] == student_id]


async def test_r02_status_file_deadline_is_met_in_time_or_flagged_to_the_county(
    start_app, dedupe_stub, token, isolation
):
    registry = await start_app(create_app, RegistrySettings, scheduler_enabled=False)
    async with dedupe_stub():
        on_time, overdue = await enrolled(registry, _as(token), STUDENT, "林一", "林二")
    topic = isolation.topic(REGISTRY_COMPLIANCE.name)
    opened = await published(isolation.servers.kafka, topic, lambda ms: len(ms) >= 2)
    [first] = _of(opened, on_time)
    assert (first["state"], first["rule"], first["kind"], first["jurisdiction"]) == (
        "opened", "R02", "status_file", SCHOOL
    )  # fmt: skip

    done = await registry.post(f"/v1/students/{on_time}/status-file", json={"evidence": [FILE]}, headers=_as(token))
    assert done.status_code == 200, done.text
    again = await registry.post(f"/v1/students/{on_time}/status-file", json={"evidence": [FILE]}, headers=_as(token))
    assert again.status_code == 422 and again.json()["rule"] == "R02"

    compliance = registry.app.state.compliance
    from datetime import datetime

    due = datetime.fromisoformat(first["due_at"])
    # the late one's due-soon and overdue (and the school's annual-roster timers if due before: R54)
    assert await advance_to(compliance, due + timedelta(minutes=2)) >= 2

    def settled(ms: list[dict]) -> bool:
        return len(_of(ms, overdue)) >= 3 and len(_of(ms, on_time)) >= 2

    messages = await published(isolation.servers.kafka, topic, settled)
    assert [m["state"] for m in _of(messages, on_time)] == ["opened", "met"]
    late_states = _of(messages, overdue)
    assert [m["state"] for m in late_states] == ["opened", "due_soon", "overdue"]
    assert late_states[-1]["flagged_to"] == "350602"  # R02: overdue is flagged to the county bureau

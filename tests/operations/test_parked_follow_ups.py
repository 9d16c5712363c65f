"""docs/operations.md, "Parked follow-ups", executed on the registry.

The registry's commit follower keeps raising (a bug): the relay publishes the enrollment's check anyway and parks
the follow-up (`xueji_relay_follow_up_failed_total{follower}` on /metrics, the alert XuejiFollowUpsParked's metric).
The engineer lists them with `python -m xueji_kit.followups list --service registry`, the fix is deployed, and
`python -m xueji_kit.followups requeue --service registry` puts them back: the relay follows the same commits again,
publishes nothing twice, and the parking is empty."""

from __future__ import annotations

from typing import Any

import pytest
from kafka_messages import published
from runbook_support import metric_value

from xueji_contracts.topics import DEDUPE_CHECK
from xueji_kit.followups import COLLECTION
from xueji_kit.store import connect
from xueji_registry.app import create_app
from xueji_registry.follow_ups import CommitFollower
from xueji_registry.settings import RegistrySettings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

SCHOOL = "3506020001"
STUDENT = {
    "school_code": SCHOOL, "name": "林小明", "id_number": "11010519491231002X", "gender": "male",
    "birth_date": "1949-12-31", "grade": 1, "school_year": 2026,
}  # fmt: skip
FOLLOWER = f"{CommitFollower.__module__}.{CommitFollower.__qualname__}"


async def test_a_parked_follow_up_is_listed_requeued_after_the_fix_and_followed_once(
    service_process, isolation, operator, token, wait_for, monkeypatch
):
    followed = CommitFollower.__call__
    seen: list[list[str]] = []

    async def broken(self: CommitFollower, commits: list[dict[str, Any]]) -> None:
        raise RuntimeError("school register: no county for school 3506020001")

    async def fixed(self: CommitFollower, commits: list[dict[str, Any]]) -> None:
        seen.append([str(k) for c in commits for k in c.get("committed", [])])
        await followed(self, commits)

    monkeypatch.setattr(CommitFollower, "__call__", broken)
    client = connect(isolation.servers.mongodb)
    try:
        async with service_process(create_app, RegistrySettings, scheduler_enabled=False) as registry:
            database = registry.app.state.runtime.db.name
            db = client[database]
            headers = {"Authorization": f"Bearer {token('school', SCHOOL)}"}
            created = await registry.post("/v1/students", json=STUDENT, headers=headers)
            assert created.status_code in (201, 202), created.text

            async def parked() -> list[dict[str, Any]]:
                return [d async for d in db[COLLECTION].find({})]

            (doc,) = await wait_for(parked, timeout=60)
            assert doc["follower"] == FOLLOWER and doc["error_type"] == "RuntimeError"
            assert await metric_value(registry, "xueji_relay_follow_up_failed_total", follower=FOLLOWER) >= 1
            checks = await published(isolation.servers.kafka, isolation.topic(DEDUPE_CHECK.name), bool)
            assert len(checks) == 1  # the events were published

            # 1. See them.
            listed = await operator(database, "xueji_kit.followups", "list", "--service", "registry")
            assert listed.returncode == 0, listed.stderr
            assert doc["_id"] in listed.stdout and "RuntimeError: school register" in listed.stdout

            # Requeued before the fix, it fails again and is parked again ("one that still fails is parked again").
            first = await operator(database, "xueji_kit.followups", "requeue", "--service", "registry")
            assert first.returncode == 0 and f"requeued {doc['_id']}" in first.stdout, first.stderr

            async def parked_again() -> dict[str, Any] | None:
                now = await parked()
                return now[0] if len(now) == 1 and now[0]["parked_at"] > doc["parked_at"] else None

            again = await wait_for(parked_again, timeout=60)
            assert again["_id"] == doc["_id"], "parked again under the id the engineer has been using"
            assert again["committed"] == doc["committed"] and again["error_type"] == "RuntimeError"

            # 2. Fix the cause; 3. requeue them.
            monkeypatch.setattr(CommitFollower, "__call__", fixed)
            requeued = await operator(database, "xueji_kit.followups", "requeue", "--service", "registry")
            assert requeued.returncode == 0, requeued.stderr
            assert f"requeued {doc['_id']}" in requeued.stdout

            async def followed_again() -> bool:
                return doc["committed"] in seen and await db["events_outbox"].count_documents({}) == 0

            await wait_for(followed_again, timeout=60)
            assert await parked() == []
            empty = await operator(database, "xueji_kit.followups", "list", "--service", "registry")
            assert empty.returncode == 0 and doc["_id"] not in empty.stdout
            again = await published(isolation.servers.kafka, isolation.topic(DEDUPE_CHECK.name), bool)
            assert len(again) == 1, "nothing published twice"
    finally:
        await client.close()

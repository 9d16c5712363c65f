"""docs/operations.md, "Records that hold things up", executed where it says something is safe to do: the registry's
`school_register` ("drop it and restart the registry: it is rebuilt from the events when empty")."""

from __future__ import annotations

from typing import Any

import pytest

from xueji_dedupe.app import create_app as create_dedupe
from xueji_dedupe.settings import DedupeSettings
from xueji_kit.store import connect
from xueji_registry.app import create_app as create_registry
from xueji_registry.settings import RegistrySettings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

SCHOOL = "3506020001"
STUDENTS = [
    {"school_code": SCHOOL, "name": "林小明", "id_number": "11010519491231002X", "gender": "male",
     "birth_date": "1949-12-31", "grade": 1, "school_year": 2026},
    {"school_code": SCHOOL, "name": "陈小红", "id_number": "110105200001010008", "gender": "female",
     "birth_date": "2000-01-01", "grade": 1, "school_year": 2026},
]  # fmt: skip


async def test_the_school_register_dropped_is_rebuilt_as_it_was_when_the_registry_restarts(
    start_app, service_process, isolation, token, wait_for, operator
):
    """And `python -m xueji_registry.consistency` ("Parked follow-ups": what a follow-up left out) names the
    difference while the register is gone, and none before or after."""
    await start_app(create_dedupe, DedupeSettings)
    client = connect(isolation.servers.mongodb)
    try:
        async with service_process(create_registry, RegistrySettings, scheduler_enabled=False) as registry:
            db = client[registry.app.state.runtime.db.name]
            headers = {"Authorization": f"Bearer {token('school', SCHOOL)}"}
            for student in STUDENTS:
                created = await registry.post("/v1/students", json=student, headers=headers)
                assert created.status_code in (201, 202), created.text

            async def registered() -> list[dict[str, Any]]:
                docs = sorted([d async for d in db["school_register"].find({})], key=lambda d: str(d["_id"]))
                return docs if len(docs) == len(STUDENTS) else []

            before = await wait_for(registered, timeout=90)
            consistent = await operator(db.name, "xueji_registry.consistency")
            assert consistent.returncode == 0, consistent.stderr
            assert f"no differences in {db.name}" in consistent.stdout
        await db["school_register"].drop()  # the registry stopped: "drop it and restart the registry"
        missing = await operator(db.name, "xueji_registry.consistency")
        assert missing.returncode == 1 and "requeue the parked follow-ups" in missing.stderr
        assert {line.split()[1] for line in missing.stdout.splitlines()} == {d["_id"] for d in before}
        assert all(line.startswith("school_register ") for line in missing.stdout.splitlines())
        async with service_process(create_registry, RegistrySettings, scheduler_enabled=False):
            after = await wait_for(registered, timeout=60)
        assert after == before
        assert (await operator(db.name, "xueji_registry.consistency")).returncode == 0
    finally:
        await client.close()

"""R07: a verdict delivered twice in one batch (published again after the broker lost its acknowledgement) gives its
student one supplementary number, and the next student the next one: no broken codes."""

from __future__ import annotations

import functools
from typing import Any

import pytest
from http_fixtures import pupil
from registry_driver import unique_verdict_for

from xueji_registry.app import create_app
from xueji_registry.enrollment import intake
from xueji_registry.settings import RegistrySettings

pytestmark = pytest.mark.integration
SCHOOL = "3506020001"
PUPILS = [pupil(SCHOOL, "郑可欣", "2019-05-02", 1), pupil(SCHOOL, "林子涵", "2019-03-11", 1)]


async def test_r07_a_verdict_repeated_in_one_batch_takes_one_number(
    service_process: Any, token: Any, wait_for: Any
) -> None:
    registry = functools.partial(service_process, create_app, RegistrySettings, scheduler_enabled=False)
    clerk = {"Authorization": f"Bearer {token('school', SCHOOL)}"}
    async with registry() as app:
        students = []
        for body in PUPILS:
            created = await app.post("/v1/students", json=body, headers=clerk)
            assert created.status_code == 202, created.text  # no dedupe runs: waiting for its verdict
            students.append(created.json()["student_id"])
        service = app.app.state.registry
        first, second = (unique_verdict_for(s) for s in students)
        await intake.complete(service, [first, first, second])  # the first one published twice
        await service.behind.finished()
        numbers = []
        for student in students:
            record = (await app.get(f"/v1/students/{student}", headers=clerk)).json()
            numbers.append(record["supplementary_numbers"]["primary"])
    assert [n[-4:] for n in numbers] == ["0001", "0002"], numbers

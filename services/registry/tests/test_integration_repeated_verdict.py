"""R07: a verdict delivered twice in one batch (published again after the broker lost its acknowledgement) gives its
student one supplementary number, and the next student the next one: no broken codes."""

from __future__ import annotations

import asyncio
import functools
import json
from typing import Any

import pytest
from http_fixtures import pupil
from registry_driver import unique_verdict_for

from xueji_contracts.envelope import derive_id
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


async def test_r03_two_verdicts_on_one_request_at_two_replicas_leave_one_record_and_say_which_stands(
    start_app: Any, token: Any, capsys: Any
) -> None:
    """Two registry replicas, each given a "unique" verdict on the same request under its own message id (dedupe's
    answer and a second copy of it, as dedupe's outbox published when a writer that lost the answer's commit had
    its entry read by the relay: `record_begun_otherwise` in a bulk run with two replicas). One record, with one
    status number and one R07 number; the replica whose commit lost says so at warning (it was an error naming only
    its own commit), naming the commit kept."""
    replicas = [
        await start_app(create_app, RegistrySettings, scheduler_enabled=False, log_format="json") for _ in range(2)
    ]
    clerk = {"Authorization": f"Bearer {token('school', SCHOOL)}"}
    created = await replicas[0].post("/v1/students", json=PUPILS[0], headers=clerk)
    assert created.status_code == 202, created.text  # no dedupe runs: waiting for its verdict
    student = created.json()["student_id"]
    services = [r.app.state.registry for r in replicas]
    verdicts = [unique_verdict_for(student), unique_verdict_for(student)]
    commits = {str(derive_id(v.message_id, "enroll")) for v in verdicts}
    capsys.readouterr()
    await asyncio.gather(*(intake.complete(s, [v]) for s, v in zip(services, verdicts, strict=True)))
    for service in services:
        await service.behind.finished()

    events = services[0].events
    first = await events.first(student)
    assert first is not None and first["commit_id"] in commits
    assert len(await events.load(student)) == 1
    record = (await replicas[1].get(f"/v1/students/{student}", headers=clerk)).json()
    assert record["state"] == "enrolled" and record["supplementary_numbers"]["primary"].endswith("0001")
    out = capsys.readouterr().out.splitlines()
    lines = [json.loads(line) for line in out if line.startswith("{") and "record_begun_otherwise" in line]
    assert len(lines) == 1, lines
    said = lines[0]
    assert said["level"] == "warning" and said["student_id"] == student
    assert said["kept_commit_id"] == first["commit_id"] and said["commit_id"] == (commits - {first["commit_id"]}).pop()

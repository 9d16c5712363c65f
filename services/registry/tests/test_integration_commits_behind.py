"""Issue 19: a batch of verdicts stores its new records behind it, while the next batch is decided; the batch is done
(its offsets committed) only once they are stored, and records that could not be stored are not followed up."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable
from typing import Any

import pytest
from http_fixtures import pupil
from registry_driver import unique_verdict_for

from xueji_registry.app import create_app
from xueji_registry.handlers.verdict import answer_verdicts
from xueji_registry.settings import RegistrySettings

pytestmark = pytest.mark.integration
SCHOOL = "3506020001"
PUPILS = [pupil(SCHOOL, "郑可欣", "2019-05-02", 1), pupil(SCHOOL, "林子涵", "2019-03-11", 1),
          pupil(SCHOOL, "陈雨桐", "2019-07-21", 1), pupil(SCHOOL, "黄思源", "2019-01-30", 1)]  # fmt: skip
# A single verdict is stored in line (a batch that failed is handled one verdict at a time, and one the store refuses
# must reach the batch handler to be dead-lettered): the batches here hold two.


async def test_r07_records_are_stored_behind_their_batch_which_is_done_only_once_they_are(
    service_process: Any, token: Any, monkeypatch: pytest.MonkeyPatch
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
        events = service.events
        release = asyncio.Event()
        start_many = events.start_many

        async def held(*args: Any, **kwargs: Any) -> Any:
            await release.wait()
            return await start_many(*args, **kwargs)

        monkeypatch.setattr(events, "start_many", held)
        committed: list[Awaitable[None]] = []
        await asyncio.wait_for(
            answer_verdicts(service, [unique_verdict_for(s) for s in students[:2]], committed), 10
        )  # not held up
        (first,) = committed
        assert isinstance(first, asyncio.Future) and not first.done(), "the batch is not done before its records are"
        assert await service.load(students[0]) is None
        # R07: the next batch is numbered meanwhile, after the first (its numbers were taken before the handler returned).
        second: list[Awaitable[None]] = []
        answering = asyncio.create_task(answer_verdicts(service, [unique_verdict_for(s) for s in students[2:]], second))
        await asyncio.sleep(0.05)
        assert not answering.done(), "one batch's commits behind at a time"
        release.set()
        await asyncio.wait_for(first, 10)
        await asyncio.wait_for(answering, 10)
        await asyncio.wait_for(second[0], 10)
        await service.behind.finished()
        numbers = []
        for student in students:
            record = (await app.get(f"/v1/students/{student}", headers=clerk)).json()
            numbers.append(record["supplementary_numbers"]["primary"])
        assert sorted(n[-4:] for n in numbers[:2]) == ["0001", "0002"], numbers
        assert sorted(n[-4:] for n in numbers[2:]) == ["0003", "0004"], numbers
        # Found in its school's register: the follow-ups ran after the commits.
        found = (await app.get("/v1/students", params={"school": SCHOOL, "name": "郑"}, headers=clerk)).json()
        assert [s["student_id"] for s in found["students"]] == [students[0]], found


async def test_records_that_could_not_be_stored_fail_their_batch_and_are_stored_when_it_comes_again(
    service_process: Any, token: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = functools.partial(service_process, create_app, RegistrySettings, scheduler_enabled=False)
    clerk = {"Authorization": f"Bearer {token('school', SCHOOL)}"}
    async with registry() as app:
        students = []
        for body in PUPILS[:2]:
            created = await app.post("/v1/students", json=body, headers=clerk)
            students.append(created.json()["student_id"])
        service = app.app.state.registry
        events = service.events
        start_many = events.start_many

        async def refused(*_: Any, **__: Any) -> Any:
            raise ValueError("a record the store refuses")

        monkeypatch.setattr(events, "start_many", refused)
        committed: list[Awaitable[None]] = []
        verdicts = [unique_verdict_for(s) for s in students]
        await answer_verdicts(service, verdicts, committed)
        with pytest.raises(ValueError, match="refuses"):
            await committed[0]  # the consumer's committer rewinds: the batch is consumed again
        await service.behind.finished()
        assert await service.load(students[0]) is None
        monkeypatch.setattr(events, "start_many", start_many)
        again: list[Awaitable[None]] = []
        await answer_verdicts(service, verdicts, again)  # consumed again: stored in line, before the handler returns
        assert again == [] and all([await service.load(s) is not None for s in students])
        numbers = []
        for student in students:
            record = (await app.get(f"/v1/students/{student}", headers=clerk)).json()
            numbers.append(record["supplementary_numbers"]["primary"][-4:])
        assert sorted(numbers) == ["0001", "0002"], numbers  # R07: the numbers they won the first time

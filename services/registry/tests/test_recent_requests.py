"""The requests a replica keeps so that their verdicts need not read them back from the store (R14)."""

from __future__ import annotations

from datetime import UTC, datetime

from xueji_contracts.auth import OperatorClaims, Role
from xueji_registry.domain.enrollment_request import EnrollmentRequest, decide_request
from xueji_registry.recent_requests import RecentRequests


def _requested():  # type: ignore[no-untyped-def]
    body = EnrollmentRequest(
        school_code="3506020001", name="王小明", id_number="350602201901010019", gender="male",
        birth_date="2019-01-01", grade=1, school_year=2026, basic={"guardian_name": "王大明"},
    )  # fmt: skip
    return decide_request(body, OperatorClaims(sub="t", role=Role.SCHOOL, code="3506020001"), datetime.now(UTC))


def test_the_requests_waiting_for_their_verdicts_are_kept_as_they_are_until_taken_the_oldest_dropped_past_the_size():
    """Issue 19: kept as they are, a verdict takes its request without a parse and a second ID check; past `size` (an
    outage of dedupe, uploads going on) the oldest are dropped, and their verdicts read them back."""
    requested = _requested()
    recent = RecentRequests(size=1_000)
    for n in range(1_500):
        recent.keep(f"stu_{n}", requested)
    assert recent.take("stu_0") is None, "dropped past the size"
    assert recent.take("stu_500") is requested, "kept as it went in"
    assert recent.take("stu_500") is None, "taken once"
    assert recent.waiting() == 999


def test_a_request_kept_longer_than_fresh_no_longer_counts_as_waiting(monkeypatch):
    import xueji_registry.recent_requests as module

    now = [1000.0]
    monkeypatch.setattr(module.time, "monotonic", lambda: now[0])
    recent = RecentRequests(fresh_seconds=60)
    recent.keep("stu_old", _requested())
    now[0] += 30
    recent.keep("stu_new", _requested())
    assert recent.waiting() == 2
    now[0] += 31
    assert recent.waiting() == 1, "the one kept 61 s ago no longer counts: its verdict reads it back"
    assert recent.take("stu_old") is None and recent.take("stu_new") is not None


async def test_a_class_upload_waits_for_room_until_verdicts_take_requests_or_at_most_its_wait():
    """Issue 19: while `bound` requests wait for their verdicts, the next rows of an upload wait; a verdict taking one
    lets them go on; a stalled dedupe holds them only `at_most` seconds."""
    import asyncio
    import time

    recent = RecentRequests()
    for n in range(3):
        recent.keep(f"stu_{n}", _requested())
    assert await recent.room(bound=4, at_most=5) is True, "below the bound: no wait"
    waiting = asyncio.create_task(recent.room(bound=3, at_most=5))
    await asyncio.sleep(0.1)
    assert not waiting.done(), "three wait: the upload waits"
    recent.take("stu_1")
    assert await asyncio.wait_for(waiting, 1) is True, "a verdict took one: room again"
    recent.keep("stu_1", _requested())
    started = time.monotonic()
    assert await recent.room(bound=3, at_most=0.3) is False, "dedupe stalled: the wait ends, the upload goes on"
    assert 0.3 <= time.monotonic() - started < 2
    assert await recent.room(bound=0, at_most=5) is True, "no bound"


async def test_a_class_of_verdicts_whose_requests_are_kept_is_matched_without_a_task_per_verdict():
    """Issue 19 (bulk import at speed): a class's verdicts each find their request kept here; matching them makes no
    task per verdict (500 tasks a batch that never waited for anything), and a verdict whose request is not kept still
    reads it from its pending stream, in its place in the batch."""
    import asyncio
    import uuid
    from types import SimpleNamespace

    from registry_driver import unique_verdict_for

    from xueji_registry.enrollment import intake
    from xueji_registry.enrollment.requests import student_of

    body = EnrollmentRequest(
        school_code="3506020001", name="王小明", id_number="350602201901010019", gender="male",
        birth_date="2019-01-01", grade=1, school_year=2026,
    )  # fmt: skip
    requested = decide_request(body, OperatorClaims(sub="t", role=Role.SCHOOL, code="3506020001"), datetime.now(UTC))
    students = [student_of(uuid.uuid4()) for _ in range(500)]
    recent = RecentRequests()
    for student in students[:-1]:
        recent.keep(student, requested)
    read: list[str] = []

    async def first(stream: str) -> None:
        read.append(stream)  # (not stored either: the verdict is left out with a warning)

    service = SimpleNamespace(recent=recent, events=SimpleNamespace(first=first))
    tasks = 0
    loop = asyncio.get_running_loop()

    def counting(loop_: asyncio.AbstractEventLoop, coro, **kwargs):  # type: ignore[no-untyped-def]
        nonlocal tasks
        tasks += 1
        return asyncio.Task(coro, loop=loop_, **kwargs)

    loop.set_task_factory(counting)
    try:
        found = await intake._pending(service, [unique_verdict_for(s) for s in students])  # type: ignore[arg-type]
    finally:
        loop.set_task_factory(None)
    assert [p.student_id for p in found] == students[:-1]
    assert read == [f"enrollment:{students[-1]}"]
    assert tasks <= 1, tasks

"""The requests a replica keeps so that their verdicts need not read them back from the store (R14)."""

from __future__ import annotations

from datetime import UTC, datetime

from xueji_contracts.auth import OperatorClaims, Role
from xueji_registry.domain.enrollment_request import EnrollmentRequest, decide_request
from xueji_registry.recent_requests import RecentRequests


def test_a_provinces_intake_uploaded_at_once_is_kept_until_its_verdicts_come_back():
    """A 100,000-student import uploads faster than dedupe answers; kept for 20,000, three of four verdicts read their
    request back (one store lookup each, most of the registry's store time at 100,000)."""
    body = EnrollmentRequest(
        school_code="3506020001", name="王小明", id_number="350602201901010019", gender="male",
        birth_date="2019-01-01", grade=1, school_year=2026, basic={"guardian_name": "王大明"},
    )  # fmt: skip
    requested = decide_request(body, OperatorClaims(sub="t", role=Role.SCHOOL, code="3506020001"), datetime.now(UTC))
    recent = RecentRequests()
    for n in range(100_000):
        recent.keep(f"stu_{n}", requested)
    assert recent.take("stu_0") == requested, "the first of the intake is still kept, and comes back as it went in"
    assert recent.take("stu_0") is None, "taken once"


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
        # Only intake's own: the session's loop also runs what earlier tests left winding down (a consumer's
        # heartbeat), which may make a task while this one waits (CI counted 2 once).
        code = getattr(coro, "cr_code", None)
        tasks += code is not None and code.co_filename == intake.__file__
        return asyncio.Task(coro, loop=loop_, **kwargs)

    loop.set_task_factory(counting)
    try:
        found = await intake._pending(service, [unique_verdict_for(s) for s in students])  # type: ignore[arg-type]
    finally:
        loop.set_task_factory(None)
    assert [p.student_id for p in found] == students[:-1]
    assert read == [f"enrollment:{students[-1]}"]
    assert tasks <= 1, tasks

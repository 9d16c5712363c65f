"""R52 over the real broker and store: the documented subscriber (docs/subscriber/subscriber.py) started after 1,000
changes bootstraps from the compacted snapshot and ends with the same copy as one that followed from the start, both
gap-free; a gap is repaired from the registry's status route, which only registered subscribers may call; the R51
audit lists the systems that received the feed."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from xueji_contracts.auth import OperatorClaims, Role, SubscriberClaims
from xueji_contracts.identity import check_character
from xueji_kit.security import mint_token
from xueji_registry.app import create_app
from xueji_registry.domain import (
    DuplicateCheck,
    DuplicateOutcome,
    EnrollStudent,
    EvidenceKind,
    EvidenceRef,
    GoAbroad,
    RequestChange,
    ReturnFromAbroad,
    Segment,
    StudentIdentity,
)
from xueji_registry.settings import RegistrySettings

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[1]
SCHOOL = "3506020001"
CLERK = OperatorClaims(sub="clerk-1", role=Role.SCHOOL, code=SCHOOL)
T0 = datetime(2026, 9, 10, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
STUDENTS, CHANGES_EACH = 200, 5  # 1,000 changes before the late subscriber starts
ABROAD = tuple(EvidenceRef(kind=k, uri=f"s3://e/{k}", sha256="0" * 64) for k in (EvidenceKind.ABROAD_APPLICATION,
                                                                                   EvidenceKind.PASSPORT))  # fmt: skip


def _subscriber_module() -> Any:
    """The example as another team would run it: a file in docs/, not a package of ours."""
    spec = importlib.util.spec_from_file_location("status_subscriber", ROOT / "docs" / "subscriber" / "subscriber.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


def _student_id(n: int) -> str:
    return f"stu_{n:04d}"


async def _change(service: Any, n: int, step: int) -> None:
    """The step-th change of student n: enrolled, then abroad and back again and again."""
    at = T0 + timedelta(days=step, minutes=n)  # as in life, not every deadline falls due in the same minute
    if step == 0:
        first17 = f"35060220150315{n:03d}"
        person = StudentIdentity(name="林小雨", id_number=first17 + check_character(first17), gender="female",
                                 birth_date=date(2015, 3, 15))  # fmt: skip
        command: Any = EnrollStudent(operator=CLERK, reason="新生入学", student_id=_student_id(n), school_code=SCHOOL,
                                     segment=Segment.PRIMARY, grade=3, identity=person, admitted_on=date(2026, 9, 1),
                                     number_counter=n, duplicate_check=DuplicateCheck(outcome=DuplicateOutcome.CLEAR))  # fmt: skip
    elif step % 2:
        command = RequestChange(operator=CLERK, reason="出国", evidence=ABROAD, details=GoAbroad())
    else:
        command = RequestChange(operator=CLERK, reason="回国", details=ReturnFromAbroad())
    await service.execute(_student_id(n), f"{_student_id(n)}:{step}", command, now=at)


async def _changes(service: Any, students: range, steps: range) -> None:
    for step in steps:
        for first in range(students.start, students.stop, 20):  # 20 students at once, each stream in order
            await asyncio.gather(*(_change(service, n, step) for n in range(first, min(first + 20, students.stop))))


@pytest.mark.timeout(600)  # 1,000 changes through the store: about a minute alone, several on a busy machine
async def test_r52_a_late_subscriber_bootstraps_from_the_snapshot_to_the_same_gap_free_copy(
    start_app, isolation, signing_keys, token, wait_for
):
    example = _subscriber_module()
    registry = await start_app(create_app, RegistrySettings, scheduler_enabled=False)
    service = registry.app.state.registry
    servers, prefix = isolation.servers.kafka, isolation.topic_prefix
    subscriber_token = mint_token(signing_keys[0], SubscriberClaims(sub="system", subscriber="exam-registration"))

    async def fetch(student_id: str) -> dict[str, Any] | None:
        answer = await registry.get(f"/v1/subscriber/students/{student_id}/status",
                                    headers={"Authorization": f"Bearer {subscriber_token}"})  # fmt: skip
        return answer.json() if answer.status_code == 200 else None

    stop = asyncio.Event()
    early, late = example.StatusCopy(), example.StatusCopy()
    following = [asyncio.create_task(example.follow(servers, "exam-registration.from-start", prefix=prefix,
                                                    copy=early, repair=fetch, stop=stop))]  # fmt: skip
    try:
        await asyncio.sleep(1.0)
        await _changes(service, range(1, STUDENTS + 1), range(CHANGES_EACH))
        following.append(asyncio.create_task(example.follow(servers, "student-subsidy.bootstrap", prefix=prefix,
                                                            copy=late, repair=fetch, stop=stop)))  # fmt: skip
        await _changes(service, range(1, 11), range(CHANGES_EACH, CHANGES_EACH + 2))  # while it catches up

        def caught_up(copy: Any) -> bool:
            for task in following:  # a subscriber that stopped will not catch up: say why at once
                if task.done() and task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]
            wanted = {_student_id(n): CHANGES_EACH + (2 if n <= 10 else 0) for n in range(1, STUDENTS + 1)}
            return all(copy.sequence(s) == q for s, q in wanted.items())

        await wait_for(lambda: caught_up(early) and caught_up(late), timeout=120)
    finally:
        stop.set()
        await asyncio.gather(*following, return_exceptions=True)

    assert early.gaps == [] and late.gaps == []
    assert late.students == early.students
    assert late.repeats < STUDENTS * CHANGES_EACH  # it did not replay the history: it read the snapshot
    assert {(s["state"], s["last_change"]) for s in early.students.values()} == {("enrolled", "returned_from_abroad")}
    for n in (1, 11, STUDENTS):
        assert await fetch(_student_id(n)) == early.students[_student_id(n)]  # the route says what the copy says

    # A gap: a copy that missed changes sees a sequence too far ahead, records it and repairs from the route.
    stale = example.StatusCopy()
    stale.take_snapshot({**early.students[_student_id(1)], "sequence": 3})
    ahead = {**early.students[_student_id(1)], "change": "returned_from_abroad", "state": "abroad"}  # not the truth
    assert not stale.take_change(ahead) and stale.gaps == [(_student_id(1), 4, ahead["sequence"])]
    await example._repair(stale, _student_id(1), fetch)
    assert stale.students[_student_id(1)] == early.students[_student_id(1)]

    # Only a registered system may ask; operator and subscriber tokens are not interchangeable.
    path = f"/v1/subscriber/students/{_student_id(1)}/status"
    stranger = mint_token(signing_keys[0], SubscriberClaims(sub="system", subscriber="school-health"))
    refused = await registry.get(path, headers={"Authorization": f"Bearer {stranger}"})
    assert refused.status_code == 403 and refused.json()["detail"]["rule"] == "R52", refused.text
    as_operator = await registry.get(path, headers={"Authorization": f"Bearer {token('province', '350000')}"})
    assert as_operator.status_code == 401
    as_system = await registry.get(
        f"/v1/students/{_student_id(1)}", headers={"Authorization": f"Bearer {subscriber_token}"}
    )
    assert as_system.status_code == 401
    unknown = await registry.get("/v1/subscriber/students/stu_none/status",
                                 headers={"Authorization": f"Bearer {subscriber_token}"})  # fmt: skip
    assert unknown.status_code == 404

    # R51: the semester audit lists the systems that received the feed, with their consent.
    audit = await registry.get("/v1/audit", headers={"Authorization": f"Bearer {token('province', '350000')}"})
    recipients = {r["name"]: r for r in audit.json()["status_feed_recipients"]}
    assert set(recipients) == {"exam-registration", "student-subsidy"}
    for name, group in (
        ("exam-registration", "exam-registration.from-start"),
        ("student-subsidy", "student-subsidy.bootstrap"),
    ):
        assert recipients[name]["received_feed"] is True and recipients[name]["consent_reference"]
        assert recipients[name]["consumer_groups"][group]["student.status.v1"] > 0


async def test_r52_the_example_runs_from_the_command_line_as_the_guide_shows(
    start_app, isolation, signing_keys, tmp_path
):
    """docs/subscribers.md runs the file with --bootstrap, --group, --registry, --token, --seconds and --out."""
    import json
    import subprocess

    registry = await start_app(create_app, RegistrySettings, scheduler_enabled=False)
    await _changes(registry.app.state.registry, range(1, 4), range(3))
    out = tmp_path / "copy.json"
    token = mint_token(signing_keys[0], SubscriberClaims(sub="system", subscriber="exam-registration"))
    command = [sys.executable, str(ROOT / "docs" / "subscriber" / "subscriber.py"), "--bootstrap", isolation.servers.kafka,
               "--group", "exam-registration.cli", "--prefix", isolation.topic_prefix, "--registry",
               "http://127.0.0.1:9", "--token", token, "--seconds", "8", "--out", str(out)]  # fmt: skip
    done = await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary == {"students": 3, "by_state": {"enrolled": 3}, "gaps": 0}
    copy = json.loads(out.read_text())
    assert {s: status["sequence"] for s, status in copy.items()} == {_student_id(n): 3 for n in range(1, 4)}

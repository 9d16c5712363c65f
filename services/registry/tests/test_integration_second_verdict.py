"""R01, R02, R14: a second verdict on one enrollment request (a replayed dead letter, a restored topic, a check run
again) never undoes or contradicts the first. A record created on the first stands: a duplicate or a rule refusal
after it refuses nothing and tells dedupe nothing. A request refused on the first stays refused: no record is created
for it (the school corrects it with a new request, R01/R50 `corrects`). Each is said at warning, naming the verdict
left and the commit the first one stored."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from http_fixtures import pupil
from registry_driver import verdict

from xueji_contracts.envelope import Envelope, derive_id, envelop
from xueji_contracts.messages.dedupe import VerdictGiven, VerdictKind
from xueji_contracts.messages.dedupe_review import ReviewCaseDecided, ReviewDecision
from xueji_kit import store_commands
from xueji_registry.app import create_app
from xueji_registry.domain.errors import Refused
from xueji_registry.enrollment import intake
from xueji_registry.enrollment.requests import pending_stream
from xueji_registry.handlers.review import on_review
from xueji_registry.settings import RegistrySettings

pytestmark = pytest.mark.integration
SCHOOL = "3506020001"
EXISTING = "stu_existing"


def _verdict(student: str, kind: VerdictKind) -> Envelope[VerdictGiven]:
    """dedupe's verdict of `kind` on the creation check of `student`, under a message id of its own."""
    answer = verdict(kind, None if kind is VerdictKind.UNIQUE else EXISTING)({"student_id": student})
    assert answer is not None
    return envelop(answer, producer="dedupe", province="35", occurred_at=datetime.now(UTC),
                   correlation_id=uuid.UUID(student.removeprefix("stu_")))  # fmt: skip


async def _requested(start_app: Any, token: Any, name: str) -> tuple[Any, Any, str]:
    registry = await start_app(create_app, RegistrySettings, scheduler_enabled=False, log_format="json")
    return registry, registry.app.state.registry, await _asked(registry, token, name)


async def _asked(registry: Any, token: Any, name: str) -> str:
    clerk = {"Authorization": f"Bearer {token('school', SCHOOL)}"}
    created = await registry.post("/v1/students", json=pupil(SCHOOL, name, "2019-05-02", 1), headers=clerk)
    assert created.status_code == 202, created.text  # no dedupe runs: waiting for its verdict
    return str(created.json()["student_id"])


async def _completed(service: Any, *verdicts: Envelope[VerdictGiven]) -> None:
    for one in verdicts:  # one delivery after the other, as a replay comes
        await intake.complete(service, [one])
        await service.behind.finished()


def _said(capsys: Any, event: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("event") == event]


@pytest.mark.parametrize("first", [VerdictKind.UNIQUE, VerdictKind.POSSIBLE_DUPLICATE])
async def test_r01_a_duplicate_verdict_after_the_record_was_created_refuses_nothing_and_the_record_stands(
    start_app: Any, token: Any, capsys: Any, first: VerdictKind
) -> None:
    _, service, student = await _requested(start_app, token, "郑可欣")
    created, second = _verdict(student, first), _verdict(student, VerdictKind.DUPLICATE)
    capsys.readouterr()
    await _completed(service, created, second)

    record = await service.load(student)
    assert record is not None and record.state.value in {"enrolled", "pending_review"}
    assert len(await service.events.load(pending_stream(student))) == 1, "the request is not refused"
    said = _said(capsys, "verdict_after_the_record")
    assert len(said) == 1, said
    assert said[0]["level"] == "warning" and said[0]["student_id"] == student
    assert said[0]["message_id"] == str(second.message_id) and said[0]["verdict"] == "duplicate"
    assert said[0]["kept_commit_id"] == str(derive_id(created.message_id, "enroll"))


async def test_r02_a_rule_refusal_on_a_second_verdict_after_the_record_was_created_refuses_nothing_and_tells_dedupe_nothing(
    start_app: Any, token: Any, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same request judged again by rules that changed since (a province's graduation grade, the day): the record
    created on the first verdict stands, and dedupe is not told to drop the person from its index."""
    _, service, student = await _requested(start_app, token, "林子涵")
    created, again = _verdict(student, VerdictKind.UNIQUE), _verdict(student, VerdictKind.UNIQUE)
    await _completed(service, created)

    def refused(*_: Any) -> Any:
        raise Refused("R02", "grade 1 is past the graduation grade 0", field="grade")

    monkeypatch.setattr(intake, "handle", refused)
    capsys.readouterr()
    await _completed(service, again)

    record = await service.load(student)
    assert record is not None and record.state.value == "enrolled"
    commits = await service.events.load(pending_stream(student))
    assert len(commits) == 1, "the request is not refused, so no IdentityRefused goes with a refusal"
    said = _said(capsys, "verdict_after_the_record")
    assert len(said) == 1 and said[0]["level"] == "warning", said
    assert said[0]["message_id"] == str(again.message_id) and said[0]["refused_rule"] == "R02"
    assert said[0]["kept_commit_id"] == str(derive_id(created.message_id, "enroll"))


@pytest.mark.parametrize("second", [VerdictKind.UNIQUE, VerdictKind.POSSIBLE_DUPLICATE])
async def test_r01_a_verdict_after_the_request_was_refused_creates_no_record(
    start_app: Any, token: Any, capsys: Any, second: VerdictKind
) -> None:
    _, service, student = await _requested(start_app, token, "陈思远")
    refusing, later = _verdict(student, VerdictKind.DUPLICATE), _verdict(student, second)
    capsys.readouterr()
    await _completed(service, refusing, later)

    assert await service.events.first(student) is None, "no record for a refused request"
    commits = await service.events.load(pending_stream(student))
    assert [c["events"][0]["type"] for c in commits] == ["EnrollmentRequested", "EnrollmentRefused"]
    assert commits[1]["events"][0]["rule"] == "R01"
    said = _said(capsys, "verdict_after_the_refusal")
    assert len(said) == 1, said
    assert said[0]["level"] == "warning" and said[0]["student_id"] == student
    assert said[0]["message_id"] == str(later.message_id) and said[0]["verdict"] == second.value
    assert said[0]["kept_commit_id"] == str(derive_id(refusing.message_id, "enroll"))
    assert said[0]["refused_rule"] == "R01"


async def test_r01_a_contradicting_verdict_in_the_same_batch_is_left_for_the_first_and_said_naming_both(
    start_app: Any, token: Any, capsys: Any
) -> None:
    _, service, student = await _requested(start_app, token, "黄雨桐")
    refusing, later = _verdict(student, VerdictKind.DUPLICATE), _verdict(student, VerdictKind.UNIQUE)
    capsys.readouterr()
    await intake.complete(service, [refusing, later])
    await service.behind.finished()

    assert await service.events.first(student) is None, "no record for a refused request"
    assert len(await service.events.load(pending_stream(student))) == 2
    said = _said(capsys, "verdict_repeated_in_batch")
    assert len(said) == 1 and said[0]["level"] == "warning", said
    assert said[0]["message_id"] == str(later.message_id) and said[0]["verdict"] == "unique"
    assert said[0]["kept_message_id"] == str(refusing.message_id) and said[0]["kept_verdict"] == "duplicate"


@pytest.mark.parametrize("decision", [ReviewDecision.SAME_PERSON, ReviewDecision.DIFFERENT_PERSON])
async def test_r14_the_county_s_decision_after_a_possible_duplicate_still_decides_and_a_verdict_replayed_after_it_changes_nothing(
    start_app: Any, token: Any, decision: ReviewDecision
) -> None:
    """The county's review answers a possible duplicate on the review topic, not as a second verdict: its decision
    closes the record and refuses the request (same person, R14) or enrolls it (different person). Verdicts replayed
    after it change neither."""
    _, service, student = await _requested(start_app, token, "吴佳怡")
    await _completed(service, _verdict(student, VerdictKind.POSSIBLE_DUPLICATE))
    waiting = await service.load(student)
    assert waiting is not None and waiting.state.value == "pending_review"
    decided = ReviewCaseDecided(
        case_id="case-1", county_code="350602", school_code=SCHOOL, student_id=student, decision=decision,
        decided_by="county-1", decided_at=datetime.now(UTC),
    )  # fmt: skip
    message = {"type": "ReviewCaseDecided", "message_id": str(uuid.uuid4()), "payload": decided.model_dump(mode="json")}
    await on_review(message, service)
    record = await service.load(student)
    assert record is not None
    requests = await service.events.load(pending_stream(student))
    if decision is ReviewDecision.SAME_PERSON:
        assert record.state.value != "enrolled" and requests[-1]["events"][0]["rule"] == "R14"
    else:
        assert record.state.value == "enrolled" and len(requests) == 1
    began = await service.events.first(student)

    kinds = [VerdictKind.POSSIBLE_DUPLICATE, VerdictKind.DUPLICATE, VerdictKind.UNIQUE]
    await _completed(service, *(_verdict(student, kind) for kind in kinds))
    after = await service.load(student)
    assert after is not None and after.state is record.state and await service.events.first(student) == began
    assert await service.events.load(pending_stream(student)) == requests


async def test_a_unique_verdict_whose_request_is_kept_reads_nothing_more_and_one_read_back_reads_its_refusal_beside_it(
    start_app: Any, token: Any, isolation: Any
) -> None:
    """Issue 19: the guard reads nothing on the bulk path (a verdict whose request this replica kept), one more `_id`
    lookup where the request is read back anyway (the pending stream's version 2 beside its version 1), and one on a
    duplicate verdict (whether the record exists)."""
    store_commands.install()  # before the app's store client is made
    with store_commands.counting(f"{isolation.database}_RegistrySettings") as log:
        registry, service, warm = await _requested(start_app, token, "孙一诺")
        await _completed(service, _verdict(warm, VerdictKind.UNIQUE))  # the school's roster opened
        kept, read_back = await _asked(registry, token, "周子轩"), await _asked(registry, token, "许诺")
        duplicate = await _asked(registry, token, "何欣然")
        service.recent.take(read_back)  # as after a restart, or at another replica
        reads = {}
        for student, kind in ((kept, VerdictKind.UNIQUE), (read_back, VerdictKind.UNIQUE),
                              (duplicate, VerdictKind.DUPLICATE)):  # fmt: skip
            with store_commands.scope(student):
                await intake.complete(service, [_verdict(student, kind)])
                await service.behind.finished()
            reads[student] = [c for c in log.of(student) if c.kind == "find" and c.collection == "events"]
    assert not any(c.scans for commands in reads.values() for c in commands)
    assert len(reads[kept]) == 0, reads
    assert len(reads[read_back]) == 2, reads  # the request, and the refusal beside it
    # whether the record exists, then the request's stream read as its refusal is recorded (two lookups, as before)
    assert len(reads[duplicate]) == 3, reads

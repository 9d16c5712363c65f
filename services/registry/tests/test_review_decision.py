"""The county's decision on a possible duplicate (dedupe.review.v1) confirms or refuses a record created waiting for
it (R14), or decides the duplicate check of the key-information change waiting for that very case (R14, R10), and
nothing else: a case must not approve whatever other change the record has pending. A decision that arrives before
its record is never dropped: retried while the record's request still waits for its verdict, dead-lettered at once
when the record will never exist."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from province_rules import handle
from record_fixtures import COUNTY_CLERK, SCHOOL, SCHOOL_CLERK, T0, enrollment, suspension_request

from xueji_contracts.messages.dedupe_review import ReviewCaseDecided, ReviewDecision
from xueji_kit.deadletter import PERMANENT
from xueji_registry import domain as d
from xueji_registry.domain import enrollment_request as request
from xueji_registry.domain.creation import CREATION_REVIEW
from xueji_registry.domain.enrollment_request import EnrollmentRequest
from xueji_registry.domain.event_base import to_document
from xueji_registry.enrollment.requests import _request, pending_stream, student_of
from xueji_registry.handlers.review import on_review


def _decision(
    student_id: str, case_id: str = "case-1", decision: ReviewDecision = ReviewDecision.DIFFERENT_PERSON
) -> dict[str, Any]:
    decided = ReviewCaseDecided(
        case_id=case_id, county_code="350602", school_code=SCHOOL, student_id=student_id,
        decision=decision, decided_by="county-1", decided_at=datetime.now(UTC),
    )  # fmt: skip
    return {"type": "ReviewCaseDecided", "message_id": "00000000-0000-4000-8000-000000000001",
            "payload": decided.model_dump(mode="json")}  # fmt: skip


class Events:
    def __init__(self, streams: dict[str, list[dict[str, Any]]]) -> None:
        self.streams = streams

    async def load(self, aggregate_id: str) -> list[dict[str, Any]]:
        return self.streams.get(aggregate_id, [])

    async def append(self, *, commit_id: str, aggregate_id: str, version: int, events: list, **_: Any) -> bool:
        self.streams.setdefault(aggregate_id, []).append({"version": version, "commit_id": commit_id, "events": events})
        return True


class Registry:
    def __init__(self, state: d.StudentStatus | None, streams: dict[str, list[dict[str, Any]]] | None = None) -> None:
        self.state, self.executed, self.events = state, [], Events(streams or {})

    async def load(self, student_id: str) -> d.StudentStatus | None:
        return self.state

    async def execute(self, student_id: str, commit_id: str, command: Any, **_: Any) -> None:
        self.executed.append(command)


async def test_a_decision_on_a_case_about_another_change_approves_nothing_the_record_has_pending():
    state, _ = handle(enrollment(), None, T0)
    state, _ = handle(suspension_request(), state, T0 + timedelta(days=1))  # pending as chg-2, the county's to verify
    assert state is not None and state.pending_change("chg-2") is not None
    registry = Registry(state)
    await on_review(_decision("stu-1"), registry)
    assert registry.executed == []


def _requested(refused: bool = False) -> tuple[str, dict[str, list[dict[str, Any]]]]:
    """A school's request as the registry stores it (its pending stream), refused by its verdict or still waiting."""
    body = EnrollmentRequest(school_code=SCHOOL, name="林小雨", gender="female", birth_date="2015-03-15", grade=3,
                             school_year=2024)  # fmt: skip
    correlation = uuid.uuid4()
    new, _ = _request("35", body, SCHOOL_CLERK, correlation, datetime.now(UTC))
    commits = [{"events": new.events}]
    if refused:
        commits.append({"events": [to_document(request.decide_duplicate("stu-existing", datetime.now(UTC)))]})
    student = student_of(correlation)
    return student, {pending_stream(student): commits}


async def test_r14_a_decision_arriving_before_its_record_is_retried_not_dropped():
    """The verdicts' consumer is behind (a bulk intake): the request waits for its verdict, the record will come.
    The handler raises an error the consumer retries (not a permanent one), and the dead letter it ends in after
    the retries names the case, the record and what to do."""
    student, streams = _requested()
    registry = Registry(None, streams)
    with pytest.raises(Exception) as raised:
        await on_review(_decision(student), registry)
    assert not isinstance(raised.value, PERMANENT)
    assert type(raised.value).__name__ == "RecordNotCreatedYet"
    assert "case-1" in str(raised.value) and student in str(raised.value) and "not created yet" in str(raised.value)
    assert registry.executed == []


async def test_r14_a_decision_on_a_refused_request_changes_nothing_and_is_no_dead_letter():
    """The request was refused after dedupe answered (another rule broken): the school was told, dedupe released the
    child, and the county's decision on the case left open has nothing to decide. Not an operator's dead letter."""
    student, streams = _requested(refused=True)
    registry = Registry(None, streams)
    await on_review(_decision(student), registry)
    await on_review(_decision(student), registry)  # delivered again: the same
    assert registry.executed == []


async def test_r14_a_decision_about_no_request_made_here_is_dead_lettered_at_once():
    """A record is created only from a request stored before its check was asked: none here, none will come."""
    with pytest.raises(PERMANENT) as raised:
        await on_review(_decision("stu_unknown"), Registry(None))
    assert "no enrollment request stu_unknown" in str(raised.value)


async def test_r14_a_decision_on_a_record_already_settled_changes_nothing_when_delivered_again():
    """The county's decision applied once (the record released): a redelivery finds nothing waiting, and is a no-op."""
    possible = d.DuplicateCheck(outcome=d.DuplicateOutcome.POSSIBLE, existing_student_id="stu-other")
    state, _ = handle(enrollment().model_copy(update={"duplicate_check": possible}), None, T0)
    assert state is not None and state.pending_change(CREATION_REVIEW) is not None
    released = d.ReviewChange(operator=COUNTY_CLERK, reason="county review", change_id=CREATION_REVIEW, approve=True)
    state, _ = handle(released, state, T0 + timedelta(days=1))
    assert state is not None and state.pending_change(CREATION_REVIEW) is None
    registry = Registry(state)
    await on_review(_decision("stu-1"), registry)
    await on_review(_decision("stu-1"), registry)
    assert registry.executed == []


async def test_r14_a_same_person_decision_delivered_again_after_a_crash_refuses_the_enrollment_request_once():
    """The county found the same person: the record closed, then the handler stopped before refusing the record's
    enrollment request. Delivered again, the decision finds the record settled and refuses the request, once (a class
    sheet's row uploaded again as it was is then told it is still refused, enrollment/attempts.py)."""
    possible = d.DuplicateCheck(outcome=d.DuplicateOutcome.POSSIBLE, existing_student_id="stu-other")
    state, _ = handle(enrollment().model_copy(update={"duplicate_check": possible}), None, T0)
    assert state is not None
    closed = d.ReviewChange(operator=COUNTY_CLERK, reason="county review", change_id=CREATION_REVIEW, approve=False)
    state, _ = handle(closed, state, T0 + timedelta(days=1))
    assert state is not None and state.closure is not None
    _, streams = _requested()
    [requested] = streams.values()
    stream = [{"version": 1, "commit_id": "requested", "events": requested[0]["events"]}]
    registry = Registry(state, {pending_stream(state.student_id): stream})
    for _ in range(2):
        await on_review(_decision(state.student_id, decision=ReviewDecision.SAME_PERSON), registry)
    assert registry.executed == []
    assert [e["type"] for c in stream for e in c["events"]] == ["EnrollmentRequested", "EnrollmentRefused"]
    refusal = stream[1]["events"][0]
    assert refusal["rule"] == "R14" and "same person" in refusal["reason"] and "case-1" in refusal["reason"]


def _key_info_under_review(case_id: str = "case-1") -> d.StudentStatus:
    """An L student's new name, approved by the county; its duplicate check found a suspected duplicate (R14)."""
    state, _ = handle(enrollment(), None, T0)
    scan = d.EvidenceRef(kind=d.EvidenceKind.HOUSEHOLD_REGISTER, uri="s3://evidence/hr-1.jpg", sha256="ab" * 32)
    asked = d.RequestChange(operator=SCHOOL_CLERK, reason="监护人申请", evidence=(scan,),
                            details=d.ChangeKeyInfo(name="林晓雨"))  # fmt: skip
    state, _ = handle(asked, state, T0 + timedelta(days=1))
    assert state is not None
    change_id = state.pending[-1].change_id
    steps: list[Any] = [
        d.ReviewChange(operator=COUNTY_CLERK, reason="县级审核", change_id=change_id, approve=True),
        d.ReferDuplicateCheck(operator=COUNTY_CLERK, reason="疑似重复", change_id=change_id, review_case_id=case_id),
    ]
    for step in steps:
        state, _ = handle(step, state, T0 + timedelta(days=2))
    assert state is not None and state.pending[-1].review is not None
    return state


@pytest.mark.parametrize("decision", [ReviewDecision.SAME_PERSON, ReviewDecision.DIFFERENT_PERSON])
async def test_r14_the_decision_on_a_key_info_changes_case_decides_its_duplicate_check(decision):
    state = _key_info_under_review()
    registry = Registry(state)
    await on_review(_decision("stu-1", decision=decision), registry)
    [command] = registry.executed
    assert isinstance(command, d.DecideDuplicateReview)
    assert (command.change_id, command.review_case_id) == (state.pending[-1].change_id, "case-1")
    assert command.same_person is (decision is ReviewDecision.SAME_PERSON)
    assert command.operator.sub == "county-1"


async def test_r14_a_decision_on_a_key_info_change_no_longer_waiting_changes_nothing():
    """Applied once (a redelivery finds nothing waiting), or for another case than the one the change waits for."""
    state = _key_info_under_review()
    decided = d.DecideDuplicateReview(operator=COUNTY_CLERK, reason="county review", review_case_id="case-1",
                                      change_id=state.pending[-1].change_id, same_person=False)  # fmt: skip
    settled, _ = handle(decided, state, T0 + timedelta(days=3))
    assert settled is not None and settled.pending == ()
    for waiting, case_id in ((settled, "case-1"), (state, "case-2")):
        registry = Registry(waiting)
        await on_review(_decision("stu-1", case_id=case_id), registry)
        assert registry.executed == []

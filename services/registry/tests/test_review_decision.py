"""The county's decision on a possible duplicate (dedupe.review.v1) confirms or refuses a record created waiting for
it (R14), and nothing else: a case about a key-information change (the registry refused that change at once) must not
approve whatever change the record has pending under the same id."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from province_rules import handle
from record_fixtures import SCHOOL, T0, enrollment, suspension_request

from xueji_contracts.messages.dedupe_review import ReviewCaseDecided, ReviewDecision
from xueji_registry import domain as d
from xueji_registry.handlers.review import on_review


def _decision(student_id: str) -> dict[str, Any]:
    decided = ReviewCaseDecided(
        case_id="case-1", county_code="350602", school_code=SCHOOL, student_id=student_id,
        decision=ReviewDecision.DIFFERENT_PERSON, decided_by="county-1", decided_at=datetime.now(UTC),
    )  # fmt: skip
    return {"type": "ReviewCaseDecided", "message_id": "00000000-0000-4000-8000-000000000001",
            "payload": decided.model_dump(mode="json")}  # fmt: skip


class Registry:
    def __init__(self, state: d.StudentStatus) -> None:
        self.state, self.executed = state, []

    async def load(self, student_id: str) -> d.StudentStatus:
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

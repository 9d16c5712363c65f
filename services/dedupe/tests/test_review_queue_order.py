"""R14: the county's review queue lists its cases in the order they were opened, also across a second boundary.

`opened_at` is an ISO string (the contract's JSON form); one opened on the exact second has no fractional part
("...08:00:00Z"), and as text it sorted after one opened later in that second ("...08:00:00.250000Z", '.' < 'Z').
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from xueji_contracts.messages.dedupe_review import ReviewCaseOpened
from xueji_dedupe.api.review import _cursor, _position
from xueji_dedupe.cases import ReviewCases, case_view
from xueji_kit.store import replace_by_id

pytestmark = pytest.mark.integration

SIMING = "350203"
ON_THE_SECOND = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
# Case ids in the reverse of their opening order, so an order by id alone cannot pass.
OPENED = [
    ("case-d", ON_THE_SECOND),
    ("case-c", ON_THE_SECOND + timedelta(microseconds=250_000)),
    ("case-b", ON_THE_SECOND + timedelta(seconds=1)),
    ("case-a", ON_THE_SECOND + timedelta(seconds=1, microseconds=1)),
]


def _view(case_id: str, opened_at: datetime) -> dict:
    case = ReviewCaseOpened(
        case_id=case_id, county_code=SIMING, school_code="3502030001", student_id=f"s-{case_id}",
        candidate_student_id="s-0", score=0.9, reason_zh="同音", reason_en="homophone", opened_at=opened_at,
    )  # fmt: skip
    opened = {"type": "ReviewCaseOpened", "case": case.model_dump(mode="json"), "purpose": "enrolment",
              "request": {}, "matches": [], "evidence": []}  # fmt: skip
    return case_view([opened])  # type: ignore[return-value]


async def _pages(cases: ReviewCases, limit: int, after=None) -> list[str]:
    """Every case id, following next_cursor as a client does (through the API's cursor form)."""
    listed: list[str] = []
    while True:
        page, last = await cases.page_in_jurisdiction(SIMING, None, after, limit)
        listed += [case["_id"] for case in page]
        if last is None:
            return listed
        after = _position(_cursor(last))


async def test_r14_cases_opened_on_the_exact_second_list_in_the_order_they_were_opened(database) -> None:
    cases = ReviewCases(SimpleNamespace(db=database))  # type: ignore[arg-type]
    for case_id, opened_at in OPENED:
        await replace_by_id(cases.collection, _view(case_id, opened_at))
    expected = [case_id for case_id, _ in OPENED]
    for limit in (1, 2, 4, 10):
        assert await _pages(cases, limit) == expected, limit


async def test_r14_cases_and_cursors_stored_before_keep_their_place_in_the_order(database) -> None:
    """Cases written before the queue kept a canonical time (as the contract's JSON has it, or with +00:00) are
    rewritten at start; a next_cursor handed out before continues where it left off."""
    cases = ReviewCases(SimpleNamespace(db=database))  # type: ignore[arg-type]
    for n, (case_id, opened_at) in enumerate(OPENED):
        view = _view(case_id, opened_at)
        if n % 2:
            view["opened_at"] = opened_at.isoformat()
        await cases.collection.insert_one(view)
    await cases.upgrade()
    expected = [case_id for case_id, _ in OPENED]
    assert await _pages(cases, 3) == expected
    issued_before = _cursor(("2026-09-01T08:00:00Z", "case-d"))  # the first case's place, as stored before
    assert await _pages(cases, 1, after=_position(issued_before)) == expected[1:]
    stored = await cases.get("case-c")
    assert datetime.fromisoformat(stored["opened_at"]) == OPENED[1][1]  # type: ignore[index]

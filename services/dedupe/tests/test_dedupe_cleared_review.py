"""R14, R10: a G student's key-information change asked again after the county decided its suspected duplicate a
different person goes on to the national tier, instead of into review again; only a case so decided, of the same
student, clears it."""

from __future__ import annotations

import uuid
from types import SimpleNamespace
from typing import Any

import pytest
from dedupe_driver import SIYU_ID, check

from xueji_contracts.messages.dedupe import CheckPurpose, VerdictGiven, VerdictKind
from xueji_dedupe.checks import Checks
from xueji_dedupe.domain.review import case_id_for, check_stream

FIRST = uuid.uuid4()
CASE = case_id_for(FIRST)


def _case(decision: str | None, student_id: str = "stu_1") -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = [{"type": "ReviewCaseOpened", "case": {"student_id": student_id}}]
    if decision is not None:
        events.append({"type": "ReviewDecided", "decision": decision})
    return [{"events": events}]


class Events:
    def __init__(self, streams: dict[str, list[dict[str, Any]]]) -> None:
        self.streams = streams

    async def load(self, stream: str) -> list[dict[str, Any]]:
        return self.streams.get(stream, [])


class Probe(Checks):
    """The province's checks with the index's answer given and what it does with it written down."""

    def __init__(self, streams: dict[str, list[dict[str, Any]]], answer: VerdictKind) -> None:
        settings = SimpleNamespace(national=False, national_enabled=True, province="35")
        runtime = SimpleNamespace(settings=settings, events=Events(streams))
        super().__init__(runtime, None, None, None, None, None)  # type: ignore[arg-type]
        self.answer, self.done = answer, []

    async def verdict(self, request: Any) -> VerdictGiven:
        return VerdictGiven(verdict=self.answer, purpose=request.purpose, student_id=request.student_id, score=0.7,
                            reason_zh="疑似重复", reason_en="possible duplicate")  # fmt: skip

    async def _forward(self, message: Any) -> None:
        self.done.append("forwarded")

    async def record(self, request: Any, answer: Any, cause: Any) -> None:
        self.done.append(answer.verdict.value)


def _asked_again(case_id: str | None = CASE, status_number: str = "G" + SIYU_ID) -> Any:
    return check("stu_1", "陈思宇", purpose=CheckPurpose.KEY_INFO_CHANGE, id_number=SIYU_ID,
                 status_number=status_number, cleared_review_case_id=case_id)  # fmt: skip


@pytest.mark.parametrize(
    ("case", "asked", "done"),
    [
        (_case("different_person"), _asked_again(), "forwarded"),
        (_case("same_person"), _asked_again(), "possible_duplicate"),
        (_case(None), _asked_again(), "possible_duplicate"),  # not decided yet
        (_case("different_person", "stu_other"), _asked_again(), "possible_duplicate"),  # another student's case
        (_case("different_person"), _asked_again(case_id=None), "possible_duplicate"),  # no case named
        (_case("different_person"), _asked_again(status_number="L" + SIYU_ID), "possible_duplicate"),  # no G: R10
    ],
)
async def test_r10_r14_only_a_possible_duplicate_the_county_cleared_goes_on_to_the_national_tier(case, asked, done):
    checks = Probe({check_stream(FIRST): case}, VerdictKind.POSSIBLE_DUPLICATE)
    await checks.on_request(asked)
    assert checks.done == [done]


async def test_r14_a_cleared_case_names_no_case_that_can_exist():
    checks = Probe({}, VerdictKind.POSSIBLE_DUPLICATE)
    await checks.on_request(_asked_again(case_id="not-a-case"))
    assert checks.done == ["possible_duplicate"]


async def test_r14_the_same_valid_id_number_is_still_refused_outright():
    checks = Probe({check_stream(FIRST): _case("different_person")}, VerdictKind.DUPLICATE)
    await checks.on_request(_asked_again())
    assert checks.done == ["duplicate"]

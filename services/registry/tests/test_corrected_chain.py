"""R01: a request that corrects a refused one names every refused request before it, read by `_id` from the one it
names (each request stores the chain it followed), the latest 20; a first request is stored as it always was."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from xueji_contracts.auth import OperatorClaims, Role
from xueji_registry.domain.enrollment_request import EnrollmentRequest, decide_refusal, decide_request
from xueji_registry.domain.event_base import to_document
from xueji_registry.enrollment.requests import (
    CORRECTED_LINKS,
    NotCorrectable,
    corrected_chain,
    pending_stream,
)

SCHOOL = "3506020001"
CLERK = OperatorClaims(sub="clerk", role=Role.SCHOOL, code=SCHOOL)
BODY = EnrollmentRequest(
    school_code=SCHOOL, name="林小明", gender="male", birth_date="2019-03-15", grade=6, school_year=2026
)  # fmt: skip
NOW = datetime(2026, 9, 1, 8, 30, tzinfo=UTC)


class Streams:
    """Pending streams by `_id`, as the event store's `load` reads them; counts the streams read."""

    def __init__(self) -> None:
        self.streams: dict[str, list[dict[str, Any]]] = {}
        self.loads = 0

    def request(self, student_id: str, followed: tuple[str, ...] = (), refused: bool = True) -> None:
        events = [to_document(decide_request(BODY, CLERK, NOW, followed))]
        if refused:
            events.append(to_document(decide_refusal("R02", "grade 6 is past the last grade 5", "grade", None, NOW)))
        self.streams[pending_stream(student_id)] = [{"events": [e]} for e in events]

    async def load(self, aggregate_id: str) -> list[dict[str, Any]]:
        self.loads += 1
        return self.streams.get(aggregate_id, [])


def _service(streams: Streams) -> Any:
    return SimpleNamespace(events=streams)


async def test_r01_a_correction_of_a_correction_names_the_whole_chain_from_one_stream_read() -> None:
    streams = Streams()
    streams.request("stu_a")
    streams.request("stu_b", followed=("stu_a",))
    assert await corrected_chain(_service(streams), "stu_a", SCHOOL) == ("stu_a",)
    assert await corrected_chain(_service(streams), "stu_b", SCHOOL) == ("stu_a", "stu_b")
    assert streams.loads == 2  # one stream each: the chain is stored with the request it names


async def test_r01_a_chain_longer_than_its_bound_names_the_latest_links() -> None:
    streams = Streams()
    followed = tuple(f"stu_{n}" for n in range(CORRECTED_LINKS))
    streams.request("stu_last", followed=followed)
    chain = await corrected_chain(_service(streams), "stu_last", SCHOOL)
    assert CORRECTED_LINKS == 20
    assert chain == (*followed[1:], "stu_last")


@pytest.mark.parametrize(
    ("named", "school", "said"),
    [
        ("stu_missing", SCHOOL, "no enrollment request stu_missing of school"),
        ("stu_a", "3506020002", "no enrollment request stu_a of school 3506020002"),  # R50: not said it exists
        ("stu_pending", SCHOOL, "was not refused"),
    ],
)
async def test_r01_r50_only_the_schools_refused_request_is_corrected(named: str, school: str, said: str) -> None:
    streams = Streams()
    streams.request("stu_a")
    streams.request("stu_pending", refused=False)
    with pytest.raises(NotCorrectable, match=said):
        await corrected_chain(_service(streams), named, school)


def test_r01_a_request_stores_the_chain_it_follows_and_a_first_request_its_old_shape() -> None:
    assert "refused_before" not in to_document(decide_request(BODY, CLERK, NOW))
    assert to_document(decide_request(BODY, CLERK, NOW, ("stu_a",)))["refused_before"] == ["stu_a"]

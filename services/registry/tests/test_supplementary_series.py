"""R07: the supplementary number is one number for the whole province (002 II.2: "a unified student registration number
for students in the whole province"), continuous per series with no broken codes, given to every segment's freshman
and to a student transferring into the province for the first time, with yy the school year.

The school's place in the layout (county, township, school digits) is read from its 10-digit code, so two schools can
give the same digits: Fuzhou Gulou 3501020001 and Zhangzhou Xiangcheng 3506020001 (both county "02"), or two junior
schools of one county whose codes differ only in the township digits the junior layout leaves out. Their freshmen draw
from one sequence, that of the number's series (every digit before the sequence), so no number is given twice."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from province_rules import FUJIAN_LAYOUT, FUJIAN_RULES, handle
from record_fixtures import T0, enrollment

from xueji_contracts.auth import OperatorClaims, Role
from xueji_contracts.envelope import envelop
from xueji_contracts.identity import check_character
from xueji_contracts.messages.status_file import StatusFileTransferred
from xueji_contracts.messages.transfer import CaseOutcome, PaperRecord, TransferCaseChanged
from xueji_registry import domain as d
from xueji_registry.domain.enrollment_request import EnrollmentRequest, decide_request
from xueji_registry.domain.event_base import to_document
from xueji_registry.domain.periods import school_year_of
from xueji_registry.domain.supplementary import numbering_of
from xueji_registry.enrollment.intake import _number as number_intake
from xueji_registry.enrollment.requests import pending_stream
from xueji_registry.handlers import enrollment_numbers
from xueji_registry.handlers.review import on_review
from xueji_registry.handlers.status_file import on_status_file
from xueji_registry.handlers.transfer_case import on_transfer_case
from xueji_registry.numbers.supplementary import SupplementaryRequested, series_scope

FUZHOU_GULOU, ZHANGZHOU_XIANGCHENG = "3501020001", "3506020001"  # both give county 02, township 00, school 01
TOWNSHIP_01, TOWNSHIP_02 = "3506020112", "3506020212"  # junior layout: county 02, school 12 for both
STUDENTS = itertools.count(1)


class Sequences:
    """Gapless per scope, as `allocation.Sequences` is: a holder keeps its number, the next holder takes the next."""

    def __init__(self) -> None:
        self.numbers: dict[str, dict[str, int]] = {}

    async def allocate(self, scope: str, holder: str) -> int:
        taken = self.numbers.setdefault(scope, {})
        return taken.setdefault(holder, len(taken) + 1)

    async def allocate_across(self, asked: dict[str, list[str]]) -> dict[str, list[int]]:
        return {scope: [await self.allocate(scope, h) for h in holders] for scope, holders in asked.items()}


def _freshman(student_id: str, school: str, segment: d.Segment, grade: int) -> d.StudentStatus:
    clerk = OperatorClaims(sub="clerk", role=Role.SCHOOL, code=school)
    state, _ = handle(enrollment(segment, grade, school=school, operator=clerk), None, T0)
    assert state is not None
    return state.model_copy(update={"student_id": student_id})


async def _enrolled_together(freshmen: list[tuple[str, d.Segment, int]], sequences: Sequences) -> list[str]:
    """The R07 numbers intake gives a batch of freshmen of the 2024 school year (school, segment, grade each)."""
    decided = [
        SimpleNamespace(state=_freshman(f"stu-{next(STUDENTS)}", school, segment, grade), events=[],
                        pending=SimpleNamespace(body=SimpleNamespace(school_year=2024)))
        for school, segment, grade in freshmen
    ]  # fmt: skip
    await number_intake(sequences, decided, T0, FUJIAN_RULES)  # type: ignore[arg-type]
    return [x.state.supplementary_numbers[x.state.segment] for x in decided]


@pytest.mark.parametrize(
    ("segment", "grade", "a", "b"),
    [(d.Segment.PRIMARY, 1, FUZHOU_GULOU, ZHANGZHOU_XIANGCHENG), (d.Segment.JUNIOR, 7, TOWNSHIP_01, TOWNSHIP_02)],
)
async def test_r07_two_schools_whose_codes_give_the_same_digits_never_give_the_same_number(segment, grade, a, b):
    sequences = Sequences()
    together = await _enrolled_together([(a, segment, grade), (b, segment, grade)], sequences)
    one_by_one = [*await _enrolled_together([(a, segment, grade)], sequences),
                  *await _enrolled_together([(b, segment, grade)], sequences)]  # fmt: skip
    numbers = together + one_by_one
    assert len(set(numbers)) == 4, numbers
    assert sorted(n[-4:] for n in numbers) == ["0001", "0002", "0003", "0004"]  # one series, continuous


async def test_r07_a_school_teaching_two_segments_numbers_each_segment_continuously():
    """A nine-year school (九年一贯制) registers primary and junior freshmen: two series, each 0001, 0002."""
    school = ZHANGZHOU_XIANGCHENG
    freshmen = [(school, d.Segment.PRIMARY, 1), (school, d.Segment.JUNIOR, 7)] * 2
    numbers = await _enrolled_together(freshmen, Sequences())
    primary = sorted(n[-4:] for n in numbers if n.startswith("124"))
    junior = sorted(n[-4:] for n in numbers if n.startswith("224"))
    assert (primary, junior) == (["0001", "0002"], ["0001", "0002"]), numbers


def test_r07_the_series_is_every_digit_before_the_sequence():
    assert series_scope(d.Segment.PRIMARY, 2024, ZHANGZHOU_XIANGCHENG, FUJIAN_LAYOUT) == "R07:124020001NNNN"
    assert series_scope(d.Segment.PRIMARY, 2024, FUZHOU_GULOU, FUJIAN_LAYOUT) == "R07:124020001NNNN"
    assert series_scope(d.Segment.JUNIOR, 2024, TOWNSHIP_01, FUJIAN_LAYOUT) == "R07:2240212NNNN"
    assert series_scope(d.Segment.SENIOR, 2025, TOWNSHIP_02, FUJIAN_LAYOUT) == "R07:3250212NNNN"
    first = d.supplementary_number(d.Segment.PRIMARY, 2024, numbering_of(FUZHOU_GULOU), 1, FUJIAN_LAYOUT)
    assert first == "1240200010001"


class Streams:
    """The event store's `load` of a stream (the enrollment requests' pending streams): one commit of its events."""

    def __init__(self, streams: dict[str, list[Any]]) -> None:
        self.streams = streams

    async def load(self, stream: str) -> list[dict[str, Any]]:
        events = self.streams.get(stream)
        return [] if events is None else [{"events": events}]


class Registry:
    """What the R07 request handler and the arrival handlers use of the registry service."""

    province = "35"
    rules = FUJIAN_RULES

    def __init__(
        self, states: dict[str, d.StudentStatus | None] | None = None, streams: dict[str, list[Any]] | None = None
    ) -> None:
        self.states = states or {}
        self.events = Streams(streams or {})
        self.sequences = Sequences()
        self.executed: list[tuple[str, Any, Any]] = []

    async def load(self, student_id: str) -> d.StudentStatus | None:
        return self.states.get(student_id)

    async def execute(self, student_id: str, commit_id: str, command: Any, *, correlation_id=None, extra=None) -> None:
        self.executed.append((student_id, command, extra))
        after, _ = handle(command, self.states.get(student_id), datetime(2024, 10, 8, 9, tzinfo=UTC))
        self.states[student_id] = after


def _request(student_id: str, school: str) -> Any:
    asked = SupplementaryRequested(student_id=student_id, school_code=school, school_year=2024)
    return envelop(asked, producer="registry", province="35", occurred_at=datetime.now(UTC))


async def test_r07_a_number_asked_for_later_comes_from_the_series_not_the_school():
    """Records released by review or arriving from another province ask for their number one by one: the series'
    sequence there too, so the second school's first request follows the first school's number."""
    gulou = _freshman("stu-gulou", FUZHOU_GULOU, d.Segment.PRIMARY, 1)
    xiangcheng = _freshman("stu-xiangcheng", ZHANGZHOU_XIANGCHENG, d.Segment.PRIMARY, 1)
    registry = Registry({"stu-gulou": gulou, "stu-xiangcheng": xiangcheng})
    await enrollment_numbers._number(registry, _request("stu-gulou", FUZHOU_GULOU))  # type: ignore[arg-type]
    await enrollment_numbers._number(registry, _request("stu-xiangcheng", ZHANGZHOU_XIANGCHENG))  # type: ignore[arg-type]
    numbers = [registry.states[s].supplementary_numbers[d.Segment.PRIMARY] for s in ("stu-gulou", "stu-xiangcheng")]
    assert numbers == ["1240200010001", "1240200010002"]


async def test_r07_a_record_released_by_the_county_review_is_numbered_in_the_school_year_its_request_names():
    """Admitted on 20 July 2025 to the 2025 freshman class (the admission date alone says the 2024-2025 school year):
    its number is 1 25 ..., the year the request names, as intake gives one that needed no review."""
    possible = d.DuplicateCheck(outcome=d.DuplicateOutcome.POSSIBLE, existing_student_id="stu-0")
    command = enrollment(d.Segment.PRIMARY, 1, admitted_on=date(2025, 7, 20)).model_copy(
        update={"duplicate_check": possible}
    )
    held, _ = handle(command, None, datetime(2025, 7, 20, 9, tzinfo=UTC))
    assert held is not None
    body = EnrollmentRequest(school_code=held.school_code, name="林小雨", gender="female", birth_date=date(2019, 3, 15),
                             grade=1, school_year=2025, admitted_on=date(2025, 7, 20))  # fmt: skip
    asked = decide_request(body, command.operator, datetime(2025, 7, 20, 1, tzinfo=UTC))
    registry = Registry({held.student_id: held}, {pending_stream(held.student_id): [to_document(asked)]})
    message = {"type": "ReviewCaseDecided", "message_id": str(uuid.uuid4()), "payload": {
        "case_id": "c1", "county_code": "350602", "school_code": ZHANGZHOU_XIANGCHENG, "student_id": held.student_id,
        "decision": "different_person", "decided_by": "county-1", "decided_at": "2025-08-20T01:00:00Z"}}  # fmt: skip
    await on_review(message, registry)  # type: ignore[arg-type]
    [(_, _, extra)] = registry.executed
    [request] = extra(registry.states[held.student_id])
    assert school_year_of(date(2025, 7, 20)) == 2024
    assert request.message.payload.school_year == 2025


async def test_r07_a_record_that_keeps_its_class_year_is_released_into_it_without_reading_the_request():
    """The record carries the class year its request named (2025, admitted 20 July 2025) from its creation: the
    review's release asks for a 1 25 ... number with no read of the request's pending stream (here there is none to
    read: the handler took the admission date's 2024, said at warning)."""
    possible = d.DuplicateCheck(outcome=d.DuplicateOutcome.POSSIBLE, existing_student_id="stu-0")
    command = enrollment(d.Segment.PRIMARY, 1, admitted_on=date(2025, 7, 20)).model_copy(
        update={"duplicate_check": possible, "school_year": 2025}
    )
    held, _ = handle(command, None, datetime(2025, 7, 20, 9, tzinfo=UTC))
    assert held is not None
    registry, reads = Registry({held.student_id: held}), []
    load = registry.events.load

    async def counted(stream: str) -> list[dict[str, Any]]:
        reads.append(stream)
        return await load(stream)

    registry.events.load = counted  # type: ignore[method-assign]
    message = {"type": "ReviewCaseDecided", "message_id": str(uuid.uuid4()), "payload": {
        "case_id": "c1", "county_code": "350602", "school_code": ZHANGZHOU_XIANGCHENG, "student_id": held.student_id,
        "decision": "different_person", "decided_by": "county-1", "decided_at": "2025-08-20T01:00:00Z"}}  # fmt: skip
    await on_review(message, registry)  # type: ignore[arg-type]
    [(_, _, extra)] = registry.executed
    [request] = extra(registry.states[held.student_id])
    assert (request.message.payload.school_year, reads) == (2025, [])


def _hunan_id() -> str:
    first17 = "430102" + "20110315" + "123"
    return first17 + check_character(first17)


async def test_r07_a_first_transfer_into_the_province_asks_for_a_supplementary_number():
    """A junior-high student of Hunan transfers (not a progression) to a Fujian school: the status file starts the
    record here, and the receiving school gives it a junior number."""
    file = StatusFileTransferred(
        transfer_id="t-1", student_id="stu-hn", sending_school="4301020001", receiving_school=ZHANGZHOU_XIANGCHENG,
        status_number="G" + _hunan_id(), name="李明", id_number=_hunan_id(), gender="male",
        birth_date=date(2011, 3, 15), segment="junior", grade=8, graduation_grade=9, admitted_on=date(2023, 9, 1),
    )  # fmt: skip
    registry = Registry()
    await on_status_file(envelop(file, producer="transfer", province="43", occurred_at=T0), registry)  # type: ignore[arg-type]
    [(_, _, extra)] = registry.executed
    after = registry.states["stu-hn"]
    assert after is not None and after.state.value == "enrolled" and after.supplementary_numbers == {}
    [request] = extra(after)
    assert request.message.payload.school_code == ZHANGZHOU_XIANGCHENG


async def test_r07_r23_a_first_arrival_accepted_offline_asks_for_a_supplementary_number():
    paper = PaperRecord(
        status_number="G" + _hunan_id(), name="李明", id_number=_hunan_id(), gender="male",
        birth_date=date(2011, 3, 15), segment="junior", grade=8, admitted_on=date(2023, 9, 1),
    )  # fmt: skip
    case = TransferCaseChanged(
        transfer_id="t-2", outcome=CaseOutcome.OFFLINE_ACCEPTED, student_id="stu-hn", sending_school="4301020001",
        receiving_school=ZHANGZHOU_XIANGCHENG, at=T0, paper_record=paper,
    )  # fmt: skip
    registry = Registry()
    await on_transfer_case(envelop(case, producer="transfer", province="35", occurred_at=T0), registry)  # type: ignore[arg-type]
    [(_, _, extra)] = registry.executed
    assert extra is not None and extra(registry.states["stu-hn"]), "no R07 request for a first arrival"


async def test_r07_a_transfer_within_the_province_keeps_the_number_and_asks_for_none():
    numbered, _ = handle(
        d.AssignSupplementaryNumber(operator=enrollment().operator, reason="R07", school_year=2024,
                                    numbering=numbering_of(ZHANGZHOU_XIANGCHENG), sequence=1),
        _freshman("stu-1", ZHANGZHOU_XIANGCHENG, d.Segment.PRIMARY, 1), T0,
    )  # fmt: skip
    assert numbered is not None
    case = TransferCaseChanged(
        transfer_id="t-3", outcome=CaseOutcome.COMPLETED, student_id="stu-1", sending_school=ZHANGZHOU_XIANGCHENG,
        receiving_school=FUZHOU_GULOU, at=T0,
    )  # fmt: skip
    registry = Registry({"stu-1": numbered})
    await on_transfer_case(envelop(case, producer="transfer", province="35", occurred_at=T0), registry)  # type: ignore[arg-type]
    [(_, _, extra)] = registry.executed
    after = registry.states["stu-1"]
    assert after is not None and after.school_code == FUZHOU_GULOU
    assert after.supplementary_numbers == numbered.supplementary_numbers
    assert extra is None or extra(after) == []

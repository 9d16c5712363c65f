"""R46 graduation rosters and their R08 certificate numbers (pure domain)."""

from __future__ import annotations

import pytest
from province_rules import FUJIAN_LAYOUT
from registry_driver import SCHOOL, enrolled

from xueji_contracts.messages.status import StatusState
from xueji_registry.domain import Refused, Segment, StudentStatus
from xueji_registry.domain.graduation_roster import compose


def _junior(student_id: str, number: str, name: str, **update: object) -> StudentStatus:
    base = enrolled()
    identity = base.identity.model_copy(update={"name": name})
    fields = {"student_id": student_id, "status_number": number, "identity": identity, "segment": Segment.JUNIOR}
    return base.model_copy(update={**fields, "grade": 9, "graduation_grade": 9, **update})


def _roster(records: list[StudentStatus], left_off: dict[str, str] | None = None, segment: Segment = Segment.JUNIOR):
    return compose(records, SCHOOL, 2027, segment, left_off or {})


CLASS = [
    _junior("stu-c", "L350602201203150033", "陈晨"),
    _junior("stu-a", "L350602201201010011", "林安"),
    _junior("stu-b", "L350602201202020022", "黄博"),
]


def test_r46_the_roster_lists_the_graduation_grade_in_status_number_order_numbered_at_approval() -> None:
    roster = _roster(CLASS)
    assert [(g.sequence, g.student_id) for g in roster.graduates] == [(1, "stu-a"), (2, "stu-b"), (3, "stu-c")]
    # R08: the certificate numbers are drawn from the series when the county bureau approves, not by place here.
    assert {g.certificate_number for g in roster.graduates} == {None}
    assert all("2012" not in g.status_number_masked for g in roster.graduates)  # R52: birth dates masked


def test_r46_students_not_in_the_graduation_grade_or_not_enrolled_are_not_on_the_roster() -> None:
    younger = _junior("stu-d", "L350602201301010044", "吴迪", grade=8)
    suspended = _junior("stu-e", "L350602201201050055", "郑恩", state=StatusState.SUSPENDED)
    elsewhere = _junior("stu-f", "L350602201201060066", "许飞", school_code="3506020002")
    roster = _roster([*CLASS, younger, suspended, elsewhere])
    assert {g.student_id for g in roster.graduates} == {"stu-a", "stu-b", "stu-c"}


def test_r46_a_student_left_off_gets_no_place_and_the_reason_is_kept() -> None:
    roster = _roster(CLASS, {"stu-b": "requirements not met: completion certificate"})
    assert [(g.sequence, g.student_id) for g in roster.graduates] == [(1, "stu-a"), (2, "stu-c")]
    assert [(x.student_id, x.reason) for x in roster.left_off] == [
        ("stu-b", "requirements not met: completion certificate")
    ]


def test_r46_leaving_off_someone_who_is_not_a_candidate_is_refused_naming_the_field() -> None:
    with pytest.raises(Refused) as refused:
        _roster(CLASS, {"stu-zz": "typo"})
    assert refused.value.field == "left_off" and "stu-zz" in refused.value.reason


def test_r46_primary_pupils_and_empty_rosters_are_refused() -> None:
    with pytest.raises(Refused) as primary:
        _roster(CLASS, segment=Segment.PRIMARY)
    assert primary.value.field == "segment"
    with pytest.raises(Refused) as empty:
        _roster([])
    assert "would graduate" in empty.value.reason


def test_r46_the_digest_changes_with_the_roster() -> None:
    assert _roster(CLASS).digest() == _roster(list(reversed(CLASS))).digest()
    assert _roster(CLASS).digest() != _roster(CLASS, {"stu-b": "completion"}).digest()


def test_r08_schools_whose_codes_give_the_same_digits_share_one_certificate_series() -> None:
    """Junior layout S yy CC SS NNNN: 3506020112, 3506020212 (township left out) and Fuzhou's 3501020112 all give
    county 02 and school 12, so their graduates of one year draw from one sequence, B2270212NNNN."""
    from xueji_registry.numbers.certificates import certificate_scope

    schools = ("3506020112", "3506020212", "3501020112")
    assert {certificate_scope(Segment.JUNIOR, 2027, s, FUJIAN_LAYOUT) for s in schools} == {"R08:B2270212NNNN"}
    assert certificate_scope(Segment.SENIOR, 2027, schools[0], FUJIAN_LAYOUT) == "R08:B3270212NNNN"
    assert certificate_scope(Segment.JUNIOR, 2028, schools[0], FUJIAN_LAYOUT) == "R08:B2280212NNNN"


def test_r08_the_approved_roster_shows_the_numbers_its_approval_drew() -> None:
    from datetime import UTC, datetime

    from xueji_registry.domain.graduation_review import GraduationOutcomeRecorded, RosterReview, apply

    outcome = GraduationOutcomeRecorded(graduated=2, certificates={"stu-a": "B22702120007", "stu-c": "B22702120008"},
                                        at=datetime(2027, 7, 1, tzinfo=UTC))  # fmt: skip
    shown = apply(RosterReview(), outcome).numbered(_roster(CLASS))
    assert [g.certificate_number for g in shown.graduates] == ["B22702120007", None, "B22702120008"]


def test_r46_the_bureau_reviews_a_submitted_roster_before_the_graduation_window_closes() -> None:
    from datetime import date

    from xueji_registry.domain.compliance import graduation_review

    first = graduation_review(f"graduation:{SCHOOL}:2027:junior", SCHOOL, 2027, 1)
    assert (first.rule, first.due_on, first.jurisdiction, first.bureau) == (
        "R46",
        date(2027, 8, 14),
        "350602",
        "350600",
    )
    again = graduation_review(f"graduation:{SCHOOL}:2027:junior", SCHOOL, 2027, 2)
    assert again.deadline_id != first.deadline_id  # a returned roster's next submission is a new task


async def test_r08_only_students_still_to_graduate_at_the_school_take_a_certificate_number_in_roster_order() -> None:
    """A student who moved away between submission and approval takes none, so the series has no broken code."""
    from xueji_registry.numbers.certificates import certificate_places, certificate_scope

    class Sequences:
        async def allocate_many(self, scope: str, holders: list[str]) -> list[int]:
            self.asked = (scope, holders)
            return list(range(1, len(holders) + 1))

    roster, sequences = _roster(CLASS), Sequences()
    moved = CLASS[2].model_copy(update={"school_code": "3506020002"})
    records = {"stu-a": CLASS[1], "stu-b": moved, "stu-c": CLASS[0]}
    places = await certificate_places(sequences, roster, records, FUJIAN_LAYOUT)  # type: ignore[arg-type]
    assert places == {"stu-a": 1, "stu-c": 2}
    assert sequences.asked == (certificate_scope(Segment.JUNIOR, 2027, SCHOOL, FUJIAN_LAYOUT), ["stu-a", "stu-c"])
    assert await certificate_places(sequences, roster, records, None) == {}  # type: ignore[arg-type]

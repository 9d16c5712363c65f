"""R46 graduation rosters and their R08 certificate numbers (pure domain)."""

from __future__ import annotations

import pytest
from province_rules import FUJIAN_LAYOUT
from registry_driver import SCHOOL, enrolled

from xueji_contracts.messages.status import StatusState
from xueji_registry.domain import Refused, Segment, StudentStatus
from xueji_registry.domain.graduation_roster import compose
from xueji_registry.numbers.supplementary import numbering_of


def _junior(student_id: str, number: str, name: str, **update: object) -> StudentStatus:
    base = enrolled()
    identity = base.identity.model_copy(update={"name": name})
    fields = {"student_id": student_id, "status_number": number, "identity": identity, "segment": Segment.JUNIOR}
    return base.model_copy(update={**fields, "grade": 9, "graduation_grade": 9, **update})


def _roster(records: list[StudentStatus], left_off: dict[str, str] | None = None, segment: Segment = Segment.JUNIOR):
    return compose(records, SCHOOL, 2027, segment, left_off or {}, numbering_of(SCHOOL), FUJIAN_LAYOUT)


CLASS = [
    _junior("stu-c", "L350602201203150033", "陈晨"),
    _junior("stu-a", "L350602201201010011", "林安"),
    _junior("stu-b", "L350602201202020022", "黄博"),
]


def test_r46_the_roster_lists_the_graduation_grade_in_status_number_order_with_r08_certificate_numbers() -> None:
    roster = _roster(CLASS)
    assert [(g.sequence, g.student_id) for g in roster.graduates] == [(1, "stu-a"), (2, "stu-b"), (3, "stu-c")]
    first = roster.graduates[0].certificate_number
    assert first.startswith("B") and first[2:4] == "27"  # R08: B + the layout, graduation year in digits 2-3
    assert first.endswith("0001") and roster.graduates[2].certificate_number.endswith("0003")
    assert len({g.certificate_number for g in roster.graduates}) == 3
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


def test_r08_certificate_numbers_already_issued_at_the_school_are_skipped() -> None:
    from datetime import date

    from xueji_registry.domain.state import CertificateKind, CertificateRecord

    first = _roster(CLASS).graduates[0].certificate_number
    graduated = _junior(
        "stu-z", "L350602201201090099", "孙哲", state=StatusState.GRADUATED,
        certificates=(CertificateRecord(kind=CertificateKind.GRADUATION, number=first, issued_on=date(2027, 6, 30)),),
    )  # fmt: skip
    roster = _roster([*CLASS, graduated])
    assert [g.sequence for g in roster.graduates] == [2, 3, 4]  # place 1's number was issued on its own
    assert first not in {g.certificate_number for g in roster.graduates}


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

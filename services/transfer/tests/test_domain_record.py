"""R28, R21, R27: eligibility facts come from the registry's record (student.status.v1), not from the form."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from xueji_contracts.messages.status import StatusState
from xueji_transfer.domain import Refused, SchoolSide, TransferApplication, TransferKind
from xueji_transfer.domain.record import StudentRecord, check_record, check_still_transferable

SENDING, RECEIVING, HUNAN = "3501020003", "3506020001", "4301020001"
SPRING_2025 = date(2025, 3, 10)


def record(**changes: Any) -> StudentRecord:
    fields: dict[str, Any] = {
        "student_id": "stu-1", "school_code": SENDING, "county_code": SENDING[:6], "state": "enrolled", "grade": 4,
        "school_year": 2024,
    }  # fmt: skip
    return StudentRecord.model_validate(fields | changes)


def application(**changes: Any) -> TransferApplication:
    fields: dict[str, Any] = {
        "student_id": "stu-1", "status": StatusState.ENROLLED, "sending": SchoolSide(code=SENDING),
        "receiving": SchoolSide(code=RECEIVING), "grade": 4, "target_grade": 4, "reason": "household_move",
    }  # fmt: skip
    return TransferApplication(**(fields | changes))


def refused(app: TransferApplication, rec: StudentRecord | None, day: date = SPRING_2025) -> Refused:
    with pytest.raises(Refused) as caught:
        check_record(app, rec, day)
    return caught.value


def test_r28_a_form_saying_enrolled_for_a_suspended_record_is_refused_naming_status() -> None:
    error = refused(application(), record(state="suspended"))
    assert (error.rule, error.field) == ("R28", "status") and "suspended" in error.reason


def test_r28_an_undeclared_status_is_taken_from_the_record() -> None:
    assert check_record(application(status=None), record(state="abroad"), SPRING_2025).status is StatusState.ABROAD


def test_r28_an_unknown_student_of_this_province_is_refused_not_trusted() -> None:
    error = refused(application(), None)
    assert (error.rule, error.field) == ("R28", "student_id") and "not trusted" in error.reason


def test_r34_a_student_from_another_province_is_verified_by_the_sending_province() -> None:
    from_hunan = application(sending=SchoolSide(code=HUNAN))
    assert check_record(from_hunan, None, SPRING_2025) == from_hunan


def test_r21_the_sending_school_is_the_school_of_record() -> None:
    error = refused(application(), record(school_code="3501020004"))
    assert (error.rule, error.field) == ("R21", "sending")


def test_r27_the_grade_is_the_records_moved_up_one_each_school_year() -> None:
    assert refused(application(grade=5, target_grade=5), record()).field == "grade"
    autumn = date(2025, 10, 9)  # school year 2025: the pupil recorded in grade 4 in 2024 is in grade 5
    assert check_record(application(grade=5, target_grade=5), record(), autumn).grade == 5
    error = refused(application(), record(), autumn)
    assert (error.rule, error.field) == ("R27", "grade") and "grade 5" in error.reason
    # Any other state keeps the grade it was recorded in.
    assert check_record(application(status=None), record(state="dropped_out"), autumn).grade == 4


def test_r28_a_graduates_progression_is_checked_on_status_not_grade() -> None:
    graduate = application(kind=TransferKind.PROGRESSION, status=StatusState.GRADUATED, grade=7, target_grade=7)
    assert check_record(graduate, record(state="graduated", grade=6), SPRING_2025).status is StatusState.GRADUATED


@pytest.mark.parametrize("change", ["deleted", "refused_as_duplicate"])
def test_r28_a_record_the_registry_closed_is_refused(change: str) -> None:
    error = refused(application(), record(change=change))
    assert (error.rule, error.field) == ("R28", "student_id") and change in error.reason


def test_r28_fields_the_registry_adds_to_its_public_message_are_tolerated() -> None:
    later = record(change="transferred_in", effective_on="2025-03-01", sequence=7, before={"state": "enrolled"})
    assert later.state is StatusState.ENROLLED


def test_r21_later_in_the_case_a_record_moved_elsewhere_stops_the_sending_side() -> None:
    """Steps 4-8 ask the record again: another case moved the student to 3501020004 meanwhile, so this one is refused
    naming `sending` and the school of record; after this case's own offline acceptance (R23) the registry already
    shows the student at this receiving school, which is no refusal."""
    with pytest.raises(Refused) as caught:
        check_still_transferable(application(), record(school_code="3501020004"))
    assert (caught.value.rule, caught.value.field) == ("R21", "sending") and "3501020004" in caught.value.reason
    check_still_transferable(application(), record(school_code=RECEIVING), offline_accepted=True)
    check_still_transferable(application(), record())
    with pytest.raises(Refused):
        check_still_transferable(application(), record(school_code=RECEIVING))

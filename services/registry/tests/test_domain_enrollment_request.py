"""R01, R14: an enrollment request's stream as a typed aggregate: stored in the shape its dict events had, so streams
stored before still replay, and the pending view (the 409 body) shows a refusal as it was stored (pure domain)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from xueji_contracts.auth import OperatorClaims, Role
from xueji_registry.domain import enrollment_request as request
from xueji_registry.domain.enrollment_request import EnrollmentRefused, EnrollmentRequest, EnrollmentRequested
from xueji_registry.domain.event_base import to_document

T0 = datetime(2026, 9, 1, 8, 30, tzinfo=UTC)
CLERK = OperatorClaims(sub="clerk", role=Role.SCHOOL, code="3506020001")
BODY = {
    "school_code": "3506020001",
    "name": "林小明",
    "gender": "male",
    "birth_date": "2019-03-15",
    "grade": 1,
    "school_year": 2026,
}
# As the registry stored them before the stream was typed: dict events built field by field.
STORED_REQUEST = {
    "type": "EnrollmentRequested",
    "at": T0.isoformat(),
    "by": {"sub": "clerk", "role": "school", "code": "3506020001"},
    "request": EnrollmentRequest.model_validate(BODY).model_dump(mode="json"),
    "reason": "first enrollment by the school",
}
STORED_R01 = {
    "type": "EnrollmentRefused",
    "at": T0.isoformat(),
    "rule": "R01",
    "reason": "this person already has a status record",
    "existing_student_id": "stu_existing",
}
STORED_RULE = {
    "type": "EnrollmentRefused",
    "at": T0.isoformat(),
    "rule": "R06",
    "reason": "the ID number's check character is wrong",
    "field": None,
    "existing_student_id": None,
}


def test_r14_a_request_is_stored_in_the_shape_the_untyped_stream_had() -> None:
    asked = request.decide_request(EnrollmentRequest.model_validate(BODY), CLERK, T0)
    assert to_document(asked) == STORED_REQUEST
    assert asked.admitted_on == date(2026, 9, 1)  # none given: the day it was asked


def test_r01_a_duplicate_refusal_names_no_field_and_another_rule_s_refusal_names_its_field_even_when_none() -> None:
    assert to_document(request.decide_duplicate("stu_existing", T0)) == STORED_R01
    refused = request.decide_refusal("R06", "the ID number's check character is wrong", None, None, T0)
    assert to_document(refused) == STORED_RULE


def test_r01_a_stream_stored_before_it_was_typed_replays_and_writes_back_unchanged() -> None:
    for refusal in (STORED_R01, STORED_RULE):
        events = request.from_documents([STORED_REQUEST, refusal])
        assert [type(e) for e in events] == [EnrollmentRequested, EnrollmentRefused]
        assert [to_document(e) for e in events] == [STORED_REQUEST, refusal]
        state = request.replay(events)
        assert state.requested is not None and state.requested.by == CLERK
        assert state.refused == events[1]


def test_r14_a_request_without_an_answer_is_pending_and_a_repeated_refusal_keeps_the_first() -> None:
    [asked] = request.from_documents([STORED_REQUEST])
    assert request.replay([asked]).refused is None
    first, again = request.decide_duplicate("stu_a", T0), request.decide_duplicate("stu_b", T0)
    assert request.replay([asked, first, again]).refused == first


def test_r06_r14_a_request_whose_id_number_contradicts_its_birth_date_or_gender_says_which_field_and_why():
    """The ID number encodes the birth date (digits 7-14) and the gender (the 17th digit, odd for male): a request
    that says otherwise holds a typo in one of them (R14: no status on false information). A birth date after the
    school year begins is one too. Checked where requests come in, not on stored ones (replay must read them all)."""
    child = "350602201903151237"  # born 2019-03-15, 17th digit 3: male
    assert request.contradictions(EnrollmentRequest.model_validate(BODY | {"id_number": child})) == []
    assert request.contradictions(EnrollmentRequest.model_validate(BODY)) == []
    wrong_day = EnrollmentRequest.model_validate(BODY | {"id_number": child, "birth_date": "2019-03-16"})
    assert request.contradictions(wrong_day) == [
        ("birth_date", "2019-03-16 is not the birth date in the ID number (2019-03-15): correct whichever is wrong")
    ]
    wrong_gender = EnrollmentRequest.model_validate(BODY | {"id_number": child, "gender": "female"})
    assert request.contradictions(wrong_gender) == [
        ("gender", "female is not the gender in the ID number (its 17th digit, 3, is odd: male)")
    ]
    unborn = EnrollmentRequest.model_validate(BODY | {"birth_date": "2091-03-15"})
    assert request.contradictions(unborn) == [("birth_date", "2091-03-15 is after the 2026-2027 school year begins")]
    after_admission = EnrollmentRequest.model_validate(BODY | {"birth_date": "2026-09-02", "admitted_on": "2026-09-01"})
    assert [f for f, _ in request.contradictions(after_admission)] == ["birth_date"]
    # A stored request is read back as it was, whatever it says.
    assert EnrollmentRequested.model_validate({**STORED_REQUEST, "request": {**BODY, "birth_date": "2091-03-15"}})


def test_a_request_stored_before_a_check_on_names_existed_still_replays():
    """A name check added for what comes in ('1234', a lost '?') is not made on what was stored before it: the
    request would never load again, and with it the student's pending enrollment."""
    stored = {**STORED_REQUEST, "request": {**STORED_REQUEST["request"], "name": "1234"}}
    (event,) = request.from_documents([stored])
    assert event.request.name == "1234"
    with pytest.raises(ValueError, match="no letter"):
        EnrollmentRequest.model_validate({**BODY, "name": "1234"})


def test_r02_a_request_without_an_admission_date_counts_from_the_day_it_was_asked_in_china() -> None:
    """Asked at 07:30 in Fuzhou on 1 September is 23:30 UTC on 31 August: the record counts from 1 September."""
    early = datetime(2026, 8, 31, 23, 30, tzinfo=UTC)
    asked = request.decide_request(EnrollmentRequest.model_validate(BODY), CLERK, early)
    assert asked.admitted_on == date(2026, 9, 1)

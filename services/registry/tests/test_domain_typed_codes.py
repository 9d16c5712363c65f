"""R14: codes a clerk types with a Chinese input method (full-width digits) are the codes meant, compared as such."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from xueji_registry.domain.enrollment_request import EnrollmentRequest
from xueji_registry.domain.person import BasicInfoPatch

BODY = {
    "school_code": "3506020001",
    "name": "林小明",
    "gender": "male",
    "birth_date": "2019-03-15",
    "grade": 1,
    "school_year": 2026,
}


def test_r14_a_household_register_typed_in_full_width_digits_is_the_ascii_code_dedupe_compares() -> None:
    request = EnrollmentRequest.model_validate(BODY | {"basic": {"household_register": "３５０６０２"}})
    assert request.basic.household_register == "350602"
    assert request.person_facts("stu_1")["household_register"] == "350602"
    assert BasicInfoPatch(household_register="３５０６０２").household_register == "350602"


def test_r14_a_household_register_in_another_script_s_digits_is_refused_naming_the_field() -> None:
    with pytest.raises(ValidationError) as refused:
        EnrollmentRequest.model_validate(BODY | {"basic": {"household_register": "٣٥٠٦٠٢"}})  # Arabic-Indic
    assert refused.value.errors()[0]["loc"] == ("basic", "household_register")

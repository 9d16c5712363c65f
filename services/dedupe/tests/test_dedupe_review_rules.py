"""Unit tests: a check is answered and forwarded once, a review case is decided once by its county (R14, R50),
and the population-register stand-in compares ID, name, birth date and gender (R03, R10)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from bench.synthetic import id_number_for
from xueji_contracts.messages.dedupe import RegisterOutcome
from xueji_dedupe.domain.review import (
    AlreadyDecidedError,
    CaseNotFound,
    NotTheCountyOfTheCase,
    case_id_for,
    check_stream,
    decide_answer,
    decide_forward,
    decide_review,
    stream_of_case,
)
from xueji_dedupe.register import FileRegister, NoRegister

NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)
ANSWERED = {"type": "CheckAnswered", "verdict": {}}
OPENED = {"type": "ReviewCaseOpened", "case": {"county_code": "350203"}}
BY = {"sub": "clerk-1", "role": "county", "code": "350203"}


def review(history, county="350203"):
    return decide_review(history, decision="same_person", by=BY, county_code=county, reason="同一人", at=NOW)


def test_r01_a_check_is_answered_once():
    assert decide_answer([], ANSWERED, OPENED) == [ANSWERED, OPENED]
    assert decide_answer([ANSWERED, OPENED], ANSWERED, OPENED) == []


def test_a_forwarded_or_answered_check_is_not_forwarded_again():
    forwarded = {"type": "CheckForwarded", "request": {}}
    assert decide_forward([], forwarded) == [forwarded]
    assert decide_forward([forwarded], forwarded) == []
    assert decide_forward([ANSWERED], forwarded) == []


def test_r14_the_county_decides_once_with_its_reason():
    (decided,) = review([ANSWERED, OPENED])
    assert (decided["decision"], decided["by"], decided["reason"]) == ("same_person", BY, "同一人")
    with pytest.raises(AlreadyDecidedError, match="already decided same_person by clerk-1"):
        review([ANSWERED, OPENED, decided])


def test_r50_another_county_may_not_decide():
    with pytest.raises(NotTheCountyOfTheCase):
        review([ANSWERED, OPENED], county="350602")


def test_a_unique_answer_has_no_case_to_decide():
    with pytest.raises(CaseNotFound):
        review([ANSWERED])
    with pytest.raises(CaseNotFound):
        stream_of_case("rc_not-a-uuid")


def test_a_case_lives_in_its_check_stream():
    correlation = uuid.uuid4()
    assert stream_of_case(case_id_for(correlation)) == check_stream(correlation)


BORN = date(2014, 7, 3)
SIYU = id_number_for("350203", BORN, 24)


@pytest.mark.parametrize("suffix", [".json", ".csv"])
async def test_r03_population_register_file_compares_id_name_birth_date_and_gender(tmp_path, suffix):
    path = tmp_path / f"register{suffix}"
    if suffix == ".json":
        path.write_text(
            f'[{{"id_number": "{SIYU}", "name": "陳思雨", "birth_date": "2014-07-03", "gender": "female"}}]'
        )
    else:
        path.write_text(f"id_number,name,birth_date,gender\n{SIYU},陳思雨,2014-07-03,female\n")
    register = FileRegister.from_file(path)
    assert await register.compare(SIYU, "陈思雨", BORN, "female") is RegisterOutcome.MATCH  # traditional form folded
    assert await register.compare(SIYU, "陈思宇", BORN, "female") is RegisterOutcome.MISMATCH
    assert await register.compare(SIYU, "陈思雨", BORN, "male") is RegisterOutcome.MISMATCH
    other = id_number_for("350203", BORN, 26)
    assert await register.compare(other, "陈思雨", BORN, "female") is RegisterOutcome.NOT_FOUND
    assert await NoRegister().compare(SIYU, "陈思雨", BORN, "female") is RegisterOutcome.NOT_FOUND

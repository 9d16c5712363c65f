"""Unit tests: the exact rule on identifying numbers (R01, R03, R05, R06)."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from bench.synthetic import id_number_for
from xueji_dedupe.domain import CandidateRecord, CheckRequest, DedupeIndex, Gender, VerdictKind, check
from xueji_dedupe.domain.identity import InvalidIdNumber, identity_keys, resident_id, status_number

BORN = date(2015, 3, 7)
ID = id_number_for("350102", BORN, 11)  # odd sequence: a boy
OTHER_ID = id_number_for("350102", BORN, 13)


def request(**fields: object) -> CheckRequest:
    base: dict[str, object] = {"name": "王小明", "birth_date": BORN, "gender": Gender.MALE, "region_code": "350102"}
    return CheckRequest.model_validate(base | fields)


def indexed(student_id: str, **fields: object) -> CandidateRecord:
    return CandidateRecord.model_validate(request(**fields).model_dump() | {"student_id": student_id})


def field_error(exc: pytest.ExceptionInfo[ValidationError]) -> tuple[tuple[str | int, ...], str]:
    error = exc.value.errors()[0]
    return error["loc"], error["msg"]


def test_r06_invalid_check_character_names_id_number() -> None:
    wrong = ID[:17] + ("0" if ID[17] != "0" else "1")
    with pytest.raises(ValidationError) as exc:
        request(id_number=wrong)
    loc, message = field_error(exc)
    assert loc == ("id_number",)
    assert "check character" in message


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("35010220150307011", "18 characters"),
        ("990102201503070115", "region code"),
        ("350102201502300112", "birth date"),
        ("35010220150307A11X", "17 digits"),
    ],
)
def test_r06_invalid_id_number_reason_says_which_part(bad: str, reason: str) -> None:
    with pytest.raises(InvalidIdNumber) as exc:
        resident_id(bad)
    assert exc.value.field == "id_number"
    assert reason in exc.value.reason


def test_r06_id_number_is_compacted_and_upper_cased() -> None:
    with_x = next(id_number_for("350102", BORN, n) for n in range(1000) if id_number_for("350102", BORN, n)[-1] == "X")
    assert resident_id(" " + with_x.lower() + " ") == with_x
    assert request(id_number=with_x.lower()).id_number == with_x


def test_r03_g_number_with_invalid_id_part_names_status_number() -> None:
    with pytest.raises(ValidationError) as exc:
        request(status_number="G" + ID[:17] + ("0" if ID[17] != "0" else "1"))
    loc, message = field_error(exc)
    assert loc == ("status_number",)
    assert "G number" in message


def test_r03_l_and_j_numbers_are_checked_for_shape_only() -> None:
    assert status_number("l" + OTHER_ID) == "L" + OTHER_ID
    assert status_number("J990102201503070110") == "J990102201503070110"  # no correspondence to an ID
    with pytest.raises(InvalidIdNumber) as exc:
        status_number("X" + ID)
    assert exc.value.field == "status_number"


def test_r03_g_number_counts_as_id() -> None:
    index = DedupeIndex([indexed("s1", status_number="G" + ID)])
    verdict = check(index, request(name="王晓明", id_number=ID))
    assert verdict.kind is VerdictKind.DUPLICATE
    assert verdict.matches[0].rule == "id_number"
    assert verdict.matched_status_numbers == ("G" + ID,)


def test_r01_same_id_number_is_duplicate() -> None:
    index = DedupeIndex([indexed("s1", id_number=ID, status_number="G" + ID)])
    # Everything else differs: the ID number alone decides (one person, one number).
    verdict = check(index, request(name="李娜", gender=Gender.FEMALE, region_code="430102", id_number=ID))
    assert verdict.kind is VerdictKind.DUPLICATE
    assert verdict.score == 1.0
    assert verdict.matched_student_ids == ("s1",)
    assert "一人一号" in verdict.reason_zh
    assert "one person, one number" in verdict.reason_en


def test_r01_r14_same_status_number_alone_is_reviewed_not_refused() -> None:
    """R14: only the same resident ID refuses outright; an L or J number has no correspondence to a person (R03)."""
    temporary = "L" + OTHER_ID
    index = DedupeIndex([indexed("s1", status_number=temporary)])
    verdict = check(index, request(name="张三", status_number=temporary))
    assert verdict.kind is VerdictKind.POSSIBLE_DUPLICATE
    assert verdict.matches[0].rule == "status_number"


def test_r05_g_number_differing_from_id_after_a_change_identifies_by_both() -> None:
    keys = identity_keys(OTHER_ID, "G" + ID)
    assert {"id:" + ID, "id:" + OTHER_ID} <= keys
    index = DedupeIndex([indexed("s1", id_number=OTHER_ID, status_number="G" + ID)])
    assert check(index, request(id_number=ID)).kind is VerdictKind.DUPLICATE


def test_r14_two_unrelated_valid_ids_are_two_persons_even_with_identical_facts() -> None:
    far = id_number_for("350203", BORN, 57)  # another county, another sequence: not one number mistyped
    index = DedupeIndex([indexed("s1", id_number=ID)])
    assert check(index, request(id_number=far)).kind is VerdictKind.UNIQUE


def test_r14_a_second_id_number_one_digit_apart_with_the_same_name_is_reviewed() -> None:
    index = DedupeIndex([indexed("s1", id_number=ID)])
    verdict = check(index, request(id_number=OTHER_ID))  # sequence 011 / 013: one digit apart
    assert verdict.kind is VerdictKind.POSSIBLE_DUPLICATE
    assert "一位数字不同" in verdict.reason_zh


def test_r10_key_info_change_does_not_match_its_own_record() -> None:
    index = DedupeIndex([indexed("s1", id_number=ID, status_number="G" + ID)])
    verdict = check(index, request(name="王晓明", id_number=ID, status_number="G" + ID, student_id="s1"))
    assert verdict.kind is VerdictKind.UNIQUE


def test_r52_reason_masks_the_status_number() -> None:
    index = DedupeIndex([indexed("s1", status_number="G" + ID)])
    verdict = check(index, request(id_number=ID))
    assert ID not in verdict.reason_zh + verdict.reason_en
    assert "G350102********" in verdict.reason_en

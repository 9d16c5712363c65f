"""Resident ID validation (R06) and masking (R52)."""

from __future__ import annotations

import pytest

from xueji_contracts.identity import InvalidResidentId, mask_id_number, mask_in_text, validate_resident_id

VALID = "11010519491231002X"


def test_r06_valid_id_number_is_accepted_in_compact_form():
    assert validate_resident_id(" 11010519491231002x ".strip()) == VALID


@pytest.mark.parametrize(
    "typed",
    [
        "110105\u00a019491231\u00a0002X",  # non-breaking spaces, as pasted from a web page or a Word table
        "\t11010519491231002x\u200b",  # a tab and a zero-width space
        "\ufeff110105-19491231-002X",  # a byte-order mark and dashes
        "１１０１０５１９４９１２３１００２Ｘ",  # full-width, as typed with a Chinese input method
        "110105\u300019491231\u3000002X",  # ideographic spaces
    ],
)
def test_r06_an_id_number_pasted_with_invisible_or_full_width_characters_is_the_same_number(typed):
    assert validate_resident_id(typed) == VALID


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("110105194912310021", "check character"),
        ("1101051949123100", "18 characters"),
        ("11010519491331002X", "birth date"),
        ("11010519491231002Y", "digit or X"),
    ],
)
def test_r06_invalid_id_number_says_why(value, reason):
    with pytest.raises(InvalidResidentId, match=reason):
        validate_resident_id(value)


def test_r52_masking_hides_birth_date_and_sequence():
    assert mask_id_number(VALID) == "110105********002X"
    assert mask_id_number("G" + VALID) == "G110105********002X"


def test_r52_masking_in_free_text_covers_bare_and_status_numbers():
    text = f"student {VALID} got G{VALID}; phone 13800138000 stays"
    masked = mask_in_text(text)
    assert VALID not in masked
    assert "G110105********002X" in masked
    assert "13800138000" in masked


def test_r03_check_character_completes_a_valid_number():
    from xueji_contracts.identity import check_character

    assert check_character(VALID[:17]) == "X"
    assert validate_resident_id("35060220190301123" + check_character("35060220190301123"))


def test_r06_a_region_under_a_known_city_that_names_no_county_is_refused_not_a_crash():
    """359999 lies under Fujian but is no division: stdnum raised KeyError there, which became a bare 500."""
    from xueji_contracts.identity import check_character

    first17 = "35999920190315123"
    with pytest.raises(InvalidResidentId, match="region code 359999"):
        validate_resident_id(first17 + check_character(first17))


def test_r06_a_number_checked_again_is_not_checked_again_and_an_invalid_one_is_refused_every_time(monkeypatch):
    """Every model that carries an ID number checks it: a student of a class upload had it checked about ten times
    (6% of the registry's CPU in a bulk import). A valid number is remembered; an invalid one is refused each time."""
    from stdnum.cn import ric

    checked = []
    calc = ric.calc_check_digit
    monkeypatch.setattr(ric, "calc_check_digit", lambda number: checked.append(number) or calc(number))
    assert [validate_resident_id(VALID) for _ in range(3)] == [VALID] * 3
    assert len(checked) <= 1
    for _ in range(2):
        with pytest.raises(InvalidResidentId):
            validate_resident_id("110105194912310021")
    assert checked.count("110105194912310021") == 2


def test_r06_a_new_number_is_cleaned_once_though_its_check_and_its_birth_date_read_it_again(monkeypatch):
    """stdnum cleans a number character by character (`clean`), and each of its functions cleans what it is given
    again: a new number was cleaned three times (its check, the birth date inside it, the birth date read for the
    contradiction check); stdnum's cleaning was ~3% of the registry's CPU in a bulk import's profile. It is cleaned
    once; what it reads after that is the same (a valid number's birth date, and the refusal of an impossible date)."""
    from datetime import date

    from stdnum.cn import ric

    from xueji_contracts.identity import birth_date_of, check_character

    cleaned = []
    clean = ric.clean
    monkeypatch.setattr(ric, "clean", lambda number, *chars: cleaned.append(number) or clean(number, *chars))
    first17 = "35060220190301777"
    number = validate_resident_id(first17 + check_character(first17))
    assert birth_date_of(number) == date(2019, 3, 1)
    assert birth_date_of(number) == date(2019, 3, 1)
    assert len(cleaned) == 1, cleaned
    impossible = "35060220190230777"
    with pytest.raises(InvalidResidentId, match="birth date 20190230"):
        validate_resident_id(impossible + check_character(impossible))

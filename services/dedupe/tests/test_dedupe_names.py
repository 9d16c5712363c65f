"""Unit tests: name normalisation and pinyin keys (R14: homophones, traditional forms, minority names)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xueji_dedupe.domain.names import MIDDLE_DOT, name_key, normalise_name
from xueji_dedupe.domain.pinyin import fuzzy_syllable, fuzzy_syllables, name_syllables
from xueji_dedupe.domain.surnames import split_surname


def test_r14_traditional_name_folds_to_simplified() -> None:
    assert normalise_name("陳國榮") == "陈国荣"
    assert normalise_name("歐陽麗華") == "欧阳丽华"


@pytest.mark.parametrize("typed", ["王 小明", " 王小明 ", "\u3000王\u3000小明", "王  小 明"])
def test_r14_stray_and_full_width_spaces_are_dropped(typed: str) -> None:
    assert normalise_name(typed) == "王小明"


def test_r14_full_width_letters_become_half_width_and_latin_words_keep_one_space() -> None:
    assert normalise_name("ＪＯＨＮ\u3000 ｓｍｉｔｈ") == "JOHN SMITH"


@pytest.mark.parametrize("dot", ["·", "•", "‧", "・", "･", ".", "．", "∙", "⋅", " · ", "··"])
def test_r14_minority_name_middle_dots_unify(dot: str) -> None:
    assert normalise_name(f"阿依古丽{dot}买买提") == f"阿依古丽{MIDDLE_DOT}买买提"


def test_r14_name_key_ignores_a_dropped_middle_dot() -> None:
    assert name_key("艾力·吐尔逊") == name_key("艾力吐尔逊") == "艾力吐尔逊"


@given(st.text(alphabet="王李张陳國榮丽·•. 　ＡB", max_size=12))
def test_r14_normalisation_is_idempotent(text: str) -> None:
    once = normalise_name(text)
    assert normalise_name(once) == once


@pytest.mark.parametrize(
    ("name", "reading"),
    [
        ("单田芳", ("shan", "tian", "fang")),  # pypinyin alone says dan
        ("曾国藩", ("zeng", "guo", "fan")),  # pypinyin alone says ceng
        ("解晓东", ("xie", "xiao", "dong")),
        ("尉迟恭", ("yu", "chi", "gong")),
        ("欧阳娜娜", ("ou", "yang", "na", "na")),
    ],
)
def test_r14_surname_is_read_as_a_surname(name: str, reading: tuple[str, ...]) -> None:
    assert name_syllables(name_key(name)) == reading


def test_r14_surname_reading_applies_to_the_surname_only() -> None:
    # 单 inside a given name keeps its ordinary reading.
    assert name_syllables("王单") == ("wang", "dan")


def test_r14_homophones_share_the_toneless_reading() -> None:
    assert name_syllables("王伟") == name_syllables("王炜") == name_syllables("汪薇")
    assert name_syllables("单丽") == name_syllables("善莉")  # Shan as a surname
    assert name_syllables("单丽") != name_syllables("丹丽")


def test_r14_minority_name_has_no_leading_surname() -> None:
    assert split_surname("阿依古丽买买提", has_parts=True) == ("", "阿依古丽买买提")
    assert split_surname("欧阳娜娜") == ("欧阳", "娜娜")
    assert split_surname("欧阳") == ("欧", "阳")  # a compound surname needs a given name after it


@pytest.mark.parametrize(
    ("a", "b"), [("zhang", "zang"), ("shi", "si"), ("chen", "cen"), ("na", "la"), ("lin", "ling"), ("fei", "hei")]
)
def test_r14_dialect_confusions_fold_together(a: str, b: str) -> None:
    assert fuzzy_syllable(a) == fuzzy_syllable(b)


def test_r14_fuzzy_reading_keeps_distinct_sounds_apart() -> None:
    assert fuzzy_syllables(("wang", "wei")) != fuzzy_syllables(("wang", "yu"))
    assert fuzzy_syllable("a") == "a"

"""Pinyin keys of names: the exact toneless reading (homophones) and a dialect-folded one (near-homophones)."""

from __future__ import annotations

from functools import lru_cache

from pypinyin import Style, lazy_pinyin

from xueji_dedupe.domain.names import is_han
from xueji_dedupe.domain.surnames import split_surname, surname_syllables

# Initials and finals that speakers of southern dialects (Fujian's Min, Hunan's Xiang among them)
# and pinyin input-method users routinely confuse: the "模糊音" settings every Chinese IME offers.
# Longest first so "zh" is folded before "z" could be mistaken for it.
_FUZZY_INITIALS = (("zh", "z"), ("ch", "c"), ("sh", "s"), ("n", "l"), ("r", "l"), ("h", "f"))
_FUZZY_FINALS = (("iang", "ian"), ("uang", "uan"), ("ang", "an"), ("eng", "en"), ("ing", "in"))


@lru_cache(maxsize=20_000)
def _char_reading(char: str) -> str:
    # Per character, not per word: pypinyin's phrase dictionary would let one mistyped character
    # change the reading of its neighbour, and a name is not a phrase.
    if not is_han(char):
        return char.lower()
    return str(lazy_pinyin(char, style=Style.NORMAL)[0])


@lru_cache(maxsize=200_000)
def name_syllables(key: str, *, has_parts: bool = False) -> tuple[str, ...]:
    """Toneless syllables of a name key, the surname read as a surname (单 shan, 曾 zeng, 尉迟 yu chi).

    Tones are dropped on purpose: clerks choose characters from a toneless pinyin input method, so a
    wrong tone is the commonest way a wrong character gets typed.
    """
    surname, given = split_surname(key, has_parts=has_parts)
    head = surname_syllables(surname) or tuple(_char_reading(c) for c in surname)
    return head + tuple(_char_reading(c) for c in given)


@lru_cache(maxsize=5_000)
def fuzzy_syllable(syllable: str) -> str:
    """One syllable with the commonly confused initials and finals merged (zh=z, n=l, h=f, ing=in, ...)."""
    if len(syllable) < 2:  # a single Latin letter or a bare vowel: nothing to fold
        return syllable
    for long, short in _FUZZY_INITIALS:
        if syllable.startswith(long):
            syllable = short + syllable[len(long) :]
            break
    for long, short in _FUZZY_FINALS:
        if syllable.endswith(long):
            return syllable[: -len(long)] + short
    return syllable


def fuzzy_syllables(syllables: tuple[str, ...]) -> tuple[str, ...]:
    """The dialect-folded reading of a whole name: the blocking key for near-homophone typos."""
    return tuple(fuzzy_syllable(s) for s in syllables)

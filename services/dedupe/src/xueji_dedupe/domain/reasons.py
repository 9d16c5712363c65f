"""Human-readable reasons for a verdict, in Chinese and English, with ID numbers masked (R52)."""

from __future__ import annotations

from xueji_contracts.identity import mask_id_number
from xueji_dedupe.domain.verdict import FeatureScore, MatchedRecord

# (feature, level) -> (zh, en). The name levels are shared by name_chars and name_pinyin.
_PHRASES: dict[tuple[str, str], tuple[str, str]] = {
    ("name", "identical"): ("姓名相同", "same name"),
    ("name", "same_sound"): ("姓名同音", "name reads the same (homophone)"),
    ("name", "sounds_alike"): ("姓名读音相近", "name sounds alike"),
    ("name", "looks_alike"): ("姓名字形相近", "a character of the name looks alike"),
    ("name", "similar"): ("姓名仅一字之差", "name differs by one character"),
    ("name", "one_char"): ("姓名仅名中一字不同", "one character of the given name differs"),
    ("name", "partial"): ("姓名部分相同", "name partly the same"),
    ("name", "different"): ("姓名不同", "different name"),
    ("name", "twins"): (
        "同一监护人、同一出生日期而名字不同（多胞胎）",
        "different given names with the same guardians and birth date (twins)",
    ),
    ("birth_date", "identical"): ("出生日期相同", "same birth date"),
    ("birth_date", "transposed"): ("出生日期月日颠倒", "birth day and month swapped"),
    ("birth_date", "one_digit"): ("出生日期一位数字不同", "birth date differs in one digit"),
    ("birth_date", "different"): ("出生日期不同", "different birth date"),
    ("gender", "same"): ("性别相同", "same gender"),
    ("gender", "different"): ("性别不同", "different gender"),
    ("region", "same_county"): ("户籍同一县（区）", "same county"),
    ("region", "same_city"): ("户籍同一地市", "same city, another county"),
    ("region", "same_province"): ("户籍同省不同地市", "same province, another city"),
    ("region", "different"): ("户籍不同省份", "another province"),
    ("guardians", "same"): ("监护人相同", "a guardian in common"),
    ("guardians", "different"): ("监护人不同", "different guardians"),
    ("guardians", "other_parent"): (
        "监护人不同（可能分别登记了父亲和母亲）",
        "different guardians (perhaps the father on one record, the mother on the other)",
    ),
    ("id_number", "birth_date_part"): (
        "两个身份证号仅出生日期部分不同（疑似更正后重新发号）",
        "two ID numbers differing only in the birth-date digits (a number reissued after a correction?)",
    ),
    ("id_number", "reissued"): (
        "两个身份证号地区码相同、出生日期和顺序码不同，姓名和监护人相同（疑似更正出生日期后重新发号）",
        "two ID numbers of one region with another birth date and sequence code, same name and guardian (a number "
        "reissued after a birth-date correction?)",
    ),
    ("id_number", "one_digit"): ("两个身份证号仅一位数字不同", "two ID numbers one digit apart"),
    ("id_number", "transposed"): ("两个身份证号两位数字颠倒", "two ID numbers with two digits swapped"),
    ("id_number", "different"): ("身份证号不同", "different ID numbers"),
    ("status_number", "identical"): ("学籍号相同", "the same status number"),
}


def _who(match: MatchedRecord) -> tuple[str, str]:
    number = mask_id_number(match.status_number) if match.status_number else "-"
    return f"学生 {match.student_id}（学籍号 {number}）", f"student {match.student_id} (status number {number})"


def _evidence(features: tuple[FeatureScore, ...]) -> tuple[str, str]:
    seen: list[tuple[str, str]] = []
    for feature in features:
        group = "name" if feature.name.startswith("name") else feature.name
        phrase = _PHRASES.get((group, feature.level), (feature.level, feature.level))
        if phrase not in seen:
            seen.append(phrase)
    return "，".join(zh for zh, _ in seen), ", ".join(en for _, en in seen)


def exact(match: MatchedRecord) -> tuple[str, str]:
    """A second status for a person who already has one (R01)."""
    zh_who, en_who = _who(match)
    if match.rule == "status_number":
        return f"学籍号与{zh_who}相同", f"The status number is already held by {en_who}"
    return (
        f"身份证号与{zh_who}相同：一人一号，不得重复建立学籍",
        f"The resident ID number matches {en_who}: one person, one number",
    )


def fuzzy(match: MatchedRecord, *, review: bool) -> tuple[str, str]:
    """A fuzzy match, with the evidence that decided it; `review` when it goes to the county bureau."""
    zh_who, en_who = _who(match)
    zh_evidence, en_evidence = _evidence(match.features)
    if review:
        return (
            f"疑似重复：与{zh_who}{zh_evidence}，匹配概率 {match.score:.2f}，请县级教育行政部门审核",
            f"Suspected duplicate of {en_who}: {en_evidence}; match probability {match.score:.2f}, "
            "for review by the county bureau",
        )
    return (
        f"重复：与{zh_who}{zh_evidence}，匹配概率 {match.score:.2f}",
        f"Duplicate of {en_who}: {en_evidence}; match probability {match.score:.2f}",
    )


def unique(compared: int) -> tuple[str, str]:
    return f"未发现重复（比对候选记录 {compared} 条）", f"No duplicate found ({compared} candidates compared)"

"""A class sheet's cells as an enrollment request reads them: dates, grades and genders as clerks write them, without
the marks that kept a cell text in Excel."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta
from typing import Any

EXCEL_NUMBER = re.compile(r"\d(\.\d+)?E\+?\d+", re.IGNORECASE)
# A day of the calendar as clerks type it: with a separator between each part, or eight digits.
WRITTEN_DATE = re.compile(r"(\d{4})\s*[^\d\s]\s*(\d{1,2})\s*[^\d\s]\s*(\d{1,2})\s*[日号]?(?:[ T]0{1,2}:00(?::00)?)?")
DIGITS_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")
_N = "[一二三四五六七八九十]"  # a month or day in Chinese numerals
CHINESE_DATE = re.compile(rf"([〇零一二三四五六七八九]{{4}})\s*年\s*({_N}{{1,2}})\s*月\s*({_N}{{1,3}})\s*[日号]?")
# A cell an export or a clerk marked as text so that Excel keeps its digits: ="350602…" or '350602….
# A Chinese input method types ' as a curly quote (‘ or ’), which Excel keeps in the cell.
MARKED_AS_TEXT = re.compile(r'="(.*)"|[\'\u2018\u2019](.+)', re.DOTALL)
SPREADSHEET_DAY_ZERO = date(1899, 12, 30)  # Excel's and LibreOffice's day 0 (day 1 is 1899-12-31 in this count)
SPREADSHEET_DAYS = (25569, 54788)  # 1970-01-01 to 2049-12-31: another number is not read as a day
# Written out, in English, or as the national code (GB/T 2261.1: 1 male, 2 female).
GENDERS = {"男": "male", "女": "female", "男性": "male", "女性": "female", "男生": "male", "女生": "female",
           "男孩": "male", "女孩": "female", "1": "male", "2": "female", "m": "male", "f": "female", "male": "male",
           "female": "female"}  # fmt: skip
NUMERALS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10, "十一": 11,
            "十二": 12}  # fmt: skip
# 初一 and 高三 as junior and senior schools write grades: their years counted on from the grades before them (the
# 6-3-3 system of Fujian and most provinces; grades are numbered 1-12 across segments, domain/periods.py).
SEGMENT_PREFIXES = (("小学", 0), ("初中", 6), ("高中", 9), ("小", 0), ("初", 6), ("高", 9))
YEAR_WITH_UNIT = re.compile(r"(?<=\d)\s*(?:[年级届]|学年)$")
SCHOOL_YEAR = re.compile(r"(\d{4})\s*[-/—–~～至]\s*(\d{4})")  # 2026-2027: the years the school year spans
GENDER_WRITTEN = "write 男 or 女 (or 1 and 2, M and F)"
GRADE_WRITTEN = "a grade is 1-12, or as schools write it: 一年级, 小一, 初一, 高三"


def kept_as_number(id_number: object) -> bool:
    """An ID number Excel took for a number (a General cell): 3.50602201903151E+17 in the workbook, or in a CSV saved
    from it. Excel keeps 15 significant digits, so the number's last three are gone; rebuilt from its digits it would
    fail the check character 10 times in 11, and name another child the 11th."""
    return isinstance(id_number, str) and EXCEL_NUMBER.fullmatch(id_number) is not None


def _date(text: str) -> str:
    """2014-02-14, 2014/2/14, 2014.2.14, 20140214, 2014年2月14日 or a spreadsheet's day number (41684, a date column
    saved as CSV from a General-formatted cell) -> ISO; anything else, a year and month alone (2014.02, 201402)
    among them, is left for validation to name (`domain/dates.py`)."""
    bare = text.strip()
    found = WRITTEN_DATE.fullmatch(bare) or DIGITS_DATE.fullmatch(bare)
    if found:
        year, month, day = (int(g) for g in found.groups())
        return f"{year:04d}-{month:02d}-{day:02d}"
    if bare.isdigit() and SPREADSHEET_DAYS[0] <= int(bare) <= SPREADSHEET_DAYS[1]:
        return (SPREADSHEET_DAY_ZERO + timedelta(days=int(bare))).isoformat()
    if written := CHINESE_DATE.fullmatch(bare):  # 二〇一九年三月十五日
        digits = "".join(str(CHINESE_DIGITS.index(c) % 10) for c in written.group(1))
        parts = _chinese_number(written.group(2)), _chinese_number(written.group(3))
        if None not in parts:
            return f"{digits}-{parts[0]:02d}-{parts[1]:02d}"
    return text


CHINESE_DIGITS = "〇一二三四五六七八九零"  # 零 is 〇 too: its index, modulo 10, is the digit


def _chinese_number(text: str) -> int | None:
    """一 to 三十一 as a month or day is written; None for anything else (十十, 一二)."""
    tens, ten, ones = text.partition("十")
    if not ten:
        return NUMERALS.get(text) if len(text) == 1 else None
    if len(tens) > 1 or len(ones) > 1:
        return None
    value = 10 * (NUMERALS.get(tens, 0) if tens else 1) + (NUMERALS.get(ones, 0) if ones else 0)
    return value if (not tens or tens in NUMERALS) and (not ones or ones in NUMERALS) else None


def _grade(text: str) -> int | str:
    """一年级, 1, 初一, 高三, 十二年级 -> 1-12; anything else is left for validation to name."""
    bare = "".join(text.split()).removesuffix("年级")
    offset = 0
    for prefix, years_before in SEGMENT_PREFIXES:
        if bare.startswith(prefix) and bare != prefix:
            bare, offset = bare.removeprefix(prefix), years_before
            break
    year = NUMERALS.get(bare) or (int(bare) if bare.isascii() and bare.isdigit() else None)
    return text.strip() if year is None else year + offset


def unmarked(text: str) -> str:
    """The cell's text without the marks that kept it text in Excel (="…", a leading apostrophe)."""
    bare = text.strip()
    marked = MARKED_AS_TEXT.fullmatch(bare)
    return bare if marked is None else (marked.group(1) or marked.group(2) or "").strip()


def normalised(key: str, raw: str) -> Any:
    text = unmarked(raw)
    if key in {"gender", "grade", "school_code", "school_year"}:  # ＭＡＬＥ, １, 一年級: full width, traditional
        text = unicodedata.normalize("NFKC", text).replace("級", "级")
    if key == "school_year":  # 2026年, 2026级, 2026届: the year with its unit; 2026-2027(学年): the school year
        bare = YEAR_WITH_UNIT.sub("", text.strip())
        both = SCHOOL_YEAR.fullmatch(bare)
        return both.group(1) if both and int(both.group(2)) == int(both.group(1)) + 1 else bare
    if key == "gender":
        return GENDERS.get("".join(text.split()).lower(), text)
    if key in {"birth_date", "admitted_on"}:
        return _date(text)
    if key == "grade":
        return _grade(text)
    if key == "id_number":  # × for X: what some keyboards give; the check character still decides
        return text.replace(" ", "").replace("\u00d7", "X").upper() or None
    return text.strip()

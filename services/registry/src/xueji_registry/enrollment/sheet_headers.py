"""A class sheet's header: its columns as clerks title them, read as fields of an enrollment request."""

from __future__ import annotations

import itertools
import re
import unicodedata

from xueji_registry.enrollment.sheet_files import HEADER_WITHIN, FileProblem

# What clerks add around a header: a mark for a required column, a note in brackets.
ID_LIKE = re.compile(r"身份|证件|id.?(number|no|card)", re.IGNORECASE)
HEADER_NOTES = re.compile(r"^[*＊]+|[*＊]+$|[(（][^)）]*[)）]$|[:：]$")

# Header as a clerk writes it (Chinese first, the English names too) -> field of EnrollmentRequest.
HEADERS = {
    "姓名": "name", "name": "name",
    "性别": "gender", "gender": "gender",
    "出生日期": "birth_date", "birth_date": "birth_date",
    "身份证件号": "id_number", "身份证号": "id_number", "身份证号码": "id_number", "证件号码": "id_number",
    "id_number": "id_number",
    "年级": "grade", "grade": "grade",
    "学年": "school_year", "入学年份": "school_year", "school_year": "school_year",
    "入学日期": "admitted_on", "入学年月": "admitted_on", "admitted_on": "admitted_on",
    "学校代码": "school_code", "学校标识码": "school_code", "school_code": "school_code",
    "民族": "ethnicity", "ethnicity": "ethnicity",
    "家庭住址": "home_address", "现住址": "home_address", "home_address": "home_address",
    "监护人": "guardian_name", "监护人姓名": "guardian_name", "guardian_name": "guardian_name",
    "学生姓名": "name", "公民身份号码": "id_number", "身份证": "id_number", "出生年月日": "birth_date",
    "身份证件号码": "id_number", "身份证件": "id_number", "身份证号码/证件号": "id_number",
    "出生年月": "birth_date",  # a full date is read; a year and month only is a row error naming the column
    # Further guardians, one column each (R14 evidence), as other systems export them.
    "父亲姓名": "guardians", "母亲姓名": "guardians", "父亲": "guardians", "母亲": "guardians",
    "监护人1": "guardians", "监护人2": "guardians", "监护人一": "guardians", "监护人二": "guardians",
    "第一监护人": "guardians", "第二监护人": "guardians", "guardians": "guardians",
    "监护人电话": "guardian_phone", "联系电话": "guardian_phone", "guardian_phone": "guardian_phone",
    "户籍所在地": "household_register", "户籍所在地代码": "household_register", "户籍地": "household_register",
    "household_register": "household_register",
}  # fmt: skip
REQUIRED = ("name", "gender", "birth_date", "grade")
BASIC = ("ethnicity", "home_address", "guardian_name", "guardian_phone", "household_register", "guardians")
MANY = frozenset({"guardians"})  # fields that several columns add to


def holds_header(rows: list[list[str]]) -> bool:
    """Whether one of the first HEADER_WITHIN rows holds every required column: the class's sheet of a workbook."""
    return any(_complete(_read(row)[0]) for row in rows[:HEADER_WITHIN])


def named_as_header(row: list[str], at: int) -> bool:
    """Whether the row's cell at `at` (its name column) is a name column's title: a dictionary look-up per row, so
    only such a row is read as a header again (`holds_header`)."""
    title = "".join(row[at].split()) if at < len(row) else ""
    return (HEADERS.get(title) or HEADERS.get(title.lower())) == "name"


def _complete(columns: dict[int, tuple[str, str]]) -> bool:
    return all(f in {key for key, _ in columns.values()} for f in REQUIRED)


def find_header(table: list[list[str]]) -> tuple[int, dict[int, tuple[str, str]]]:
    """The header's index in the table and its columns: the first of the first HEADER_WITHIN rows (or, past blank
    rows, the first non-blank one) that holds every required column, so a title or a note above it is passed over.
    None of them: the first non-blank row is read as the header, and its FileProblem names the columns it lacks."""
    filled = ((index, row) for index, row in enumerate(table) if any(cell.strip() for cell in row))
    first = next(filled, None)  # the first non-blank row, however far down
    rows = [] if first is None else [first, *itertools.takewhile(lambda r: r[0] < HEADER_WITHIN, filled)]
    if not rows:
        raise FileProblem("the file is empty")
    for index, row in rows:
        if _complete(_read(row)[0]):
            return index, header_columns(row)
    return rows[0][0], header_columns(rows[0][1])


def _read(header: list[str]) -> tuple[dict[int, tuple[str, str]], list[str]]:
    """Column index -> (field, header as written), and the titles not read."""
    columns: dict[int, tuple[str, str]] = {}
    unread: list[str] = []
    for index, title in enumerate(header):
        # 性 别, 年　级: spaces typed to align a header; ｎａｍｅ, 年級 as an input method or a Taiwan sheet types them
        bare = "".join(unicodedata.normalize("NFKC", title).split()).replace("級", "级")
        bare = HEADER_NOTES.sub("", bare) or bare  # *姓名, 身份证号(必填), 年级：
        key = HEADERS.get(bare) or HEADERS.get(bare.lower())
        if key is not None and (key in MANY or key not in {f for f, _ in columns.values()}):
            columns[index] = (key, title.strip())
        elif key is None and title.strip():
            unread.append(title.strip())
    return columns, unread


def header_columns(header: list[str]) -> dict[int, tuple[str, str]]:
    """Column index -> (field, header as written); unknown columns are ignored, a missing required one is fatal."""
    columns, unread = _read(header)
    read = {f for f, _ in columns.values()}
    missing = [f for f in REQUIRED if f not in read]
    if missing:
        raise FileProblem(f"the header lacks the column(s) {', '.join(missing)} (e.g. 姓名, 性别, 出生日期, 年级)")
    if "id_number" not in read and (looks := [t for t in unread if ID_LIKE.search(t)]):
        # Read without it, the class would be enrolled as students with no ID number (R14: only a review then).
        unknown = f"the column {looks[0]!r} looks like the ID numbers but is not read as them"
        raise FileProblem(f"{unknown}: name it 身份证件号")
    return columns

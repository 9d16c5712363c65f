"""Bulk enrollment of a class from a spreadsheet (CSV or XLSX) as a status clerk keeps it.

Every row is validated in one pass and every bad row reported with its row number, column and reason; the good
rows go through the same enrollment as a single student (dedupe check, numbers, events). Each row's request id is
derived from the school, the person and the attempt (the next one only after a refusal, `attempts`), so importing
the same file again requests nothing twice.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from xueji_contracts.calendar import local_date
from xueji_registry.domain.enrollment_request import (
    EnrollmentRefused,
    EnrollmentRequest,
    admitted_after,
    contradictions,
)
from xueji_registry.enrollment.reupload import differences, not_applied, still_refused

ROW_NAMESPACE = uuid.UUID("2f0c7b8e-5d2a-4c1e-9b7a-3e6f1d4c8a90")
MAX_ROWS = 20_000  # a school's intake, with room; larger files are split
# What a class sheet never needs, checked while reading so a hostile file costs no more than a legitimate one: a
# sheet claiming a million rows or 16,384 columns, a cell of megabytes, or a zip that unpacks to gigabytes.
MAX_COLUMNS = 64
MAX_CELLS = 400_000  # non-empty cells
MAX_CELL_CHARS = 2_000
EXACT_DIGITS_UP_TO = 1e15  # a spreadsheet number this large has lost digits: Excel keeps 15 significant ones
EXCEL_NUMBER = re.compile(r"\d(\.\d+)?E\+?\d+", re.IGNORECASE)
# The same number as a Number-formatted column saves it to CSV: 18 digits, the last three zeros (350602201903151000).
# A real number ends so about once in 11,000: refused when its check character fails (10 times in 11), else told.
ZEROED = ("ends in 000: Excel most likely kept the column as a number and lost the last three digits; format the "
          "column as text (设置单元格格式 → 文本) and type the number again")  # fmt: skip
ZEROED_BUT_VALID = ("ends in 000: if the column was a number in Excel, its last three digits were lost; compare it "
                    "with the ID card")  # fmt: skip
KEPT_AS_NUMBER = ("Excel kept this ID number as a number and only its first 15 digits: format the column as text "
                  "(设置单元格格式 → 文本) and type the number again")  # fmt: skip
MAX_UNPACKED = 48 * 1024 * 1024  # what the zip directory says its members unpack to, all together
MAX_MEMBERS = 500

# A day of the calendar as clerks type it: with a separator between each part, or eight digits.
WRITTEN_DATE = re.compile(r"(\d{4})\s*[^\d\s]\s*(\d{1,2})\s*[^\d\s]\s*(\d{1,2})\s*日?(?:[ T]0{1,2}:00(?::00)?)?")
DIGITS_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")
_N = "[一二三四五六七八九十]"  # a month or day in Chinese numerals
CHINESE_DATE = re.compile(rf"([〇零一二三四五六七八九]{{4}})\s*年\s*({_N}{{1,2}})\s*月\s*({_N}{{1,3}})\s*日?")
# A cell an export or a clerk marked as text so that Excel keeps its digits: ="350602…" or '350602….
MARKED_AS_TEXT = re.compile(r'="(.*)"|\'(.+)', re.DOTALL)
SPREADSHEET_DAY_ZERO = date(1899, 12, 30)  # Excel's and LibreOffice's day 0 (day 1 is 1899-12-31 in this count)
SPREADSHEET_DAYS = (25569, 54788)  # 1970-01-01 to 2049-12-31: another number is not read as a day
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
# Written out, in English, or as the national code (GB/T 2261.1: 1 male, 2 female).
GENDERS = {"男": "male", "女": "female", "男性": "male", "女性": "female", "男生": "male", "女生": "female",
           "1": "male", "2": "female", "m": "male", "f": "female", "male": "male", "female": "female"}  # fmt: skip
NUMERALS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10, "十一": 11,
            "十二": 12}  # fmt: skip
# 初一 and 高三 as junior and senior schools write grades: their years counted on from the grades before them (the
# 6-3-3 system of Fujian and most provinces; grades are numbered 1-12 across segments, domain/periods.py).
SEGMENT_PREFIXES = (("小学", 0), ("初中", 6), ("高中", 9), ("小", 0), ("初", 6), ("高", 9))
GRADE_WRITTEN = "a grade is 1-12, or as schools write it: 一年级, 小一, 初一, 高三"


class FileProblem(ValueError):
    """The file as a whole cannot be read (format, header): nothing is imported."""


@dataclass(frozen=True)
class RowError:
    row: int  # as the clerk sees it: the header is row 1
    field: str
    reason: str
    column: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "column": self.column, "reason": self.reason}


@dataclass
class Checked:
    good: list[tuple[int, EnrollmentRequest]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)  # rows imported all the same
    rows: int = 0
    titles: dict[str, str] = field(default_factory=dict)  # field -> its column's header as written


@dataclass(frozen=True)
class Outcome:
    """What became of a good row: requested now, or before (`first`: that request as it was asked); `refused`: that
    request was refused and the row says what it said; `refused_before`: the refused request a new one follows."""

    row: int
    request: EnrollmentRequest
    student_id: str
    first: EnrollmentRequest | None = None
    refused: EnrollmentRefused | None = None
    refused_before: str | None = None

    def differs(self) -> list[tuple[str, str]]:
        return [] if self.first is None or self.refused else differences(self.first, self.request)


def read_table(filename: str, content: bytes) -> list[list[str]]:
    """The sheet's cells as text, header first; CSV in UTF-8 (with or without BOM) or GB18030, or XLSX. CPU-bound:
    a server calls it off the event loop. FileProblem naming the limit or the damage otherwise."""
    if filename.lower().endswith(".xlsx"):
        return _limited(_xlsx_rows(content))
    if filename.lower().endswith(".csv"):
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = content.decode(encoding)
            except UnicodeDecodeError:
                continue
            try:
                return _limited(csv.reader(io.StringIO(text, newline="")))  # \r, \r\n or \n: as the csv module wants
            except csv.Error as exc:
                raise FileProblem(f"not a readable CSV file ({exc})") from None
        raise FileProblem("the CSV file is neither UTF-8 nor GB18030 text")
    raise FileProblem(f"{filename}: upload a .csv or .xlsx file")


def _limited(rows: Iterable[Iterable[object]]) -> list[list[str]]:
    """The rows as text, refused as soon as one limit is passed: rows (blank ones between included), columns,
    non-empty cells, characters in a cell."""
    table: list[list[str]] = []
    cells = 0
    for row in rows:
        if len(table) > MAX_ROWS:  # the header and MAX_ROWS rows read: one more is too many
            raise FileProblem(f"more than {MAX_ROWS} rows (blank rows between them count): split the file")
        if all(v is None for v in row):
            table.append([])  # a blank row (openpyxl fills the gaps between rows with them)
            continue
        values = [_cell(v) for v in row]
        while values and not values[-1]:
            values.pop()
        if len(values) > MAX_COLUMNS:
            raise FileProblem(f"more than {MAX_COLUMNS} columns: keep the class's columns only")
        cells += sum(1 for v in values if v)
        if cells > MAX_CELLS:
            raise FileProblem(f"more than {MAX_CELLS} filled cells: split the file")
        if any(len(v) > MAX_CELL_CHARS for v in values):
            raise FileProblem(f"row {len(table) + 1} has a cell longer than {MAX_CELL_CHARS} characters")
        table.append(values)
    return table


def _xlsx_rows(content: bytes) -> Iterator[Iterable[object]]:
    """The first sheet's rows, read as a stream; the zip directory is checked before anything is unpacked."""
    import zipfile

    from openpyxl import load_workbook

    try:
        members = zipfile.ZipFile(io.BytesIO(content)).infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise FileProblem("not a readable .xlsx workbook: the file is truncated or not an .xlsx file") from None
    if len(members) > MAX_MEMBERS or sum(m.file_size for m in members) > MAX_UNPACKED:
        raise FileProblem(f"the workbook unpacks to more than {MAX_UNPACKED // (1024 * 1024)} MB: not a class sheet")
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        sheet = book.worksheets[0]
        # Bounded: past MAX_ROWS + 2 rows and MAX_COLUMNS + 1 columns nothing is read (nor made up for gaps).
        yield from sheet.iter_rows(max_row=MAX_ROWS + 2, max_col=MAX_COLUMNS + 1, values_only=True)
    except FileProblem:
        raise
    except Exception as exc:  # openpyxl, zipfile, zlib and the XML parser raise many kinds for a damaged file
        raise FileProblem(f"not a readable .xlsx workbook: damaged ({type(exc).__name__})") from None


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and abs(value) >= EXACT_DIGITS_UP_TO:
        return f"{value:.15G}"  # as Excel shows it (3.50602201903151E+17): its digits past the 15th are gone
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _kept_as_number(id_number: object) -> bool:
    """An ID number Excel took for a number (a General cell): 3.50602201903151E+17 in the workbook, or in a CSV saved
    from it. Excel keeps 15 significant digits, so the number's last three are gone; rebuilt from its digits it would
    fail the check character 10 times in 11, and name another child the 11th."""
    return isinstance(id_number, str) and EXCEL_NUMBER.fullmatch(id_number) is not None


def _columns(header: list[str]) -> dict[int, tuple[str, str]]:
    """Column index -> (field, header as written); unknown columns are ignored, a missing required one is fatal."""
    columns: dict[int, tuple[str, str]] = {}
    unread: list[str] = []
    for index, title in enumerate(header):
        bare = "".join(title.split())  # 性 别, 年　级: spaces typed to align a header
        bare = HEADER_NOTES.sub("", bare) or bare  # *姓名, 身份证号(必填), 年级：
        key = HEADERS.get(bare) or HEADERS.get(bare.lower())
        if key is not None and (key in MANY or key not in {f for f, _ in columns.values()}):
            columns[index] = (key, title.strip())
        elif key is None and title.strip():
            unread.append(title.strip())
    read = {f for f, _ in columns.values()}
    missing = [f for f in REQUIRED if f not in read]
    if missing:
        raise FileProblem(f"the header lacks the column(s) {', '.join(missing)} (e.g. 姓名, 性别, 出生日期, 年级)")
    if "id_number" not in read and (looks := [t for t in unread if ID_LIKE.search(t)]):
        # Read without it, the class would be enrolled as students with no ID number (R14: only a review then).
        unknown = f"the column {looks[0]!r} looks like the ID numbers but is not read as them"
        raise FileProblem(f"{unknown}: name it 身份证件号")
    return columns


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


def _unmarked(text: str) -> str:
    """The cell's text without the marks that kept it text in Excel (="…", a leading apostrophe)."""
    bare = text.strip()
    marked = MARKED_AS_TEXT.fullmatch(bare)
    return bare if marked is None else (marked.group(1) or marked.group(2) or "").strip()


def _normalised(key: str, raw: str) -> Any:
    text = _unmarked(raw)
    if key == "gender":
        return GENDERS.get("".join(text.split()).lower(), text)
    if key in {"birth_date", "admitted_on"}:
        return _date(text)
    if key == "grade":
        return _grade(text)
    if key == "id_number":
        return text.replace(" ", "").upper() or None
    return text.strip()


def check(table: list[list[str]], school_code: str, school_year: int, today: date | None = None) -> Checked:
    """Validate every row; the good ones as enrollment requests, every bad one with row, column and reason. `today`:
    the China date admission dates are judged by (R02), by default the date now."""
    today = today or local_date(datetime.now(UTC))
    if not table:
        raise FileProblem("the file is empty")
    columns = _columns(table[0])
    titles = {key: title for key, title in columns.values()}
    checked = Checked(titles=titles)
    seen: dict[str, int] = {}
    for number, row in enumerate(table[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue  # blank lines at the end of a sheet
        checked.rows += 1
        if checked.rows > MAX_ROWS:
            raise FileProblem(f"more than {MAX_ROWS} rows: split the file")
        values = {key: _normalised(key, row[i]) for i, (key, _) in columns.items()
                  if i < len(row) and row[i] and key not in MANY}  # fmt: skip
        if guardians := [_unmarked(row[i]) for i, (key, _) in columns.items() if key == "guardians" and i < len(row)]:
            values["guardians"] = [name for name in guardians if name]
        if _kept_as_number(values.get("id_number")):
            checked.errors.append(RowError(number, "id_number", KEPT_AS_NUMBER, titles.get("id_number")))
            continue
        body: dict[str, Any] = {k: v for k, v in values.items() if k not in BASIC}
        body.setdefault("school_code", school_code)
        body.setdefault("school_year", school_year)
        body["basic"] = {k: values[k] for k in BASIC if k in values}
        if body["school_code"] != school_code:
            reason = f"not the school imported into ({school_code})"
            checked.errors.append(RowError(number, "school_code", reason, titles.get("school_code")))
            continue
        zeroed = isinstance(given := values.get("id_number"), str) and len(given) == 18 and given.endswith("000")
        try:
            request = EnrollmentRequest.model_validate(body)
        except ValidationError as exc:
            for error in exc.errors():
                name = ".".join(str(p) for p in error["loc"]) or "row"
                key = name.removeprefix("basic.")
                reason = ZEROED if zeroed and name == "id_number" else _reason(error)
                if name == "grade" and error["type"] != "missing":
                    reason = f"{GRADE_WRITTEN} (not {values.get('grade')})"
                checked.errors.append(RowError(number, name, reason, titles.get(key)))
            continue
        if (early := admitted_after(request, today)) is not None:
            checked.errors.append(RowError(number, "admitted_on", early.reason, titles.get("admitted_on")))
            continue
        if zeroed:
            checked.warnings.append(RowError(number, "id_number", ZEROED_BUT_VALID, titles.get("id_number")))
        # Told beside the row's student, not refused (domain/enrollment_request.py: contradictions).
        checked.warnings += [
            RowError(number, name, reason, titles.get(name)) for name, reason in contradictions(request)
        ]
        person = person_key(request)
        if person in seen:
            key = "id_number" if request.id_number else "name"
            checked.errors.append(RowError(number, key, f"the same student as row {seen[person]}", titles.get(key)))
            continue
        seen[person] = number
        checked.good.append((number, request))
    return checked


def _reason(error: Any) -> str:
    message = str(error["msg"]).removeprefix("Value error, ")
    return "required" if error["type"] == "missing" else message


def person_key(request: EnrollmentRequest) -> str:
    if request.id_number:
        return request.id_number
    return f"{request.name}|{request.birth_date}|{request.gender.value}"


def row_correlation(request: EnrollmentRequest, attempt: int = 1) -> uuid.UUID:
    """The same person at the same school is the same request, however often the file is imported; a request that
    was refused is followed by the next attempt's (`attempts`). The first attempt's id is the one rows always had."""
    again = f"|{attempt}" if attempt > 1 else ""
    return uuid.uuid5(ROW_NAMESPACE, f"{request.school_code}|{person_key(request)}{again}")


def summary(checked: Checked, outcomes: Iterable[Outcome]) -> dict[str, Any]:
    """The answer to an upload. A row requested before counts as `already_requested` when it says what it said then
    (the same file again), as `already_requested_otherwise` when it does not: those rows are listed in `not_applied`,
    a field each, as errors are. A row whose request was refused, sent again as it was, counts as `still_refused`
    and is listed in `refused` with the rule and reason in English (as the CLI prints it) and the refusal itself
    (`refusal`: rule, reason, existing record, as the pending view answers it, for a page to say in its language);
    corrected, it was requested anew (`refused_before`) and counts as `requested`, as a new row does. Every row is
    counted once: `rows` == `requested` + `already_requested` + `already_requested_otherwise` + `still_refused` + the
    rows `errors` names (a row with several errors, and a student's second row in one sheet, is one of them); each
    good row is in `students`."""
    done = [(o, o.differs()) for o in outcomes]
    students = [{"row": o.row, "student_id": o.student_id, "new": o.first is None, "differs": [n for n, _ in differs],
                 "refused": o.refused is not None, "refused_before": o.refused_before}
                for o, differs in done]  # fmt: skip
    kept = [RowError(o.row, name, not_applied(first), checked.titles.get(name.removeprefix("basic.")))
            for o, differs in done for name, first in differs]  # fmt: skip
    refused = [(why, RowError(o.row, why.field or "row", still_refused(why), checked.titles.get(why.field or "")))
               for o, _ in done if (why := o.refused)]  # fmt: skip
    return {
        "rows": checked.rows,
        "requested": sum(1 for o, _ in done if o.first is None),
        "already_requested": sum(1 for o, differs in done if o.first is not None and not differs and not o.refused),
        "already_requested_otherwise": sum(1 for _, differs in done if differs),
        "still_refused": len(refused),
        "students": students,
        "not_applied": [k.as_dict() for k in kept],
        "refused": [row.as_dict() | {"refusal": _refusal(why)} for why, row in refused],
        "errors": [e.as_dict() for e in checked.errors],
        "warnings": [w.as_dict() for w in checked.warnings],
    }


def _refusal(refused: EnrollmentRefused) -> dict[str, Any]:
    return {"rule": refused.rule, "reason": refused.reason, "existing_student_id": refused.existing_student_id}

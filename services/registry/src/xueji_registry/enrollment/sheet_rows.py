"""A class sheet's rows checked for bulk enrollment, as a status clerk keeps the class (CSV or XLSX).

Every row is validated in one pass and every bad row reported with its row number, column and reason (`check`); the
good rows go through the same enrollment as a single student (dedupe check, numbers, events). Each row's request id
is derived from the school, the person and the attempt (`row_correlation`; the next one only after a refusal,
`attempts`), so importing the same file again requests nothing twice. The file is read by `sheet_files`, its header
by `sheet_headers`, its cells by `sheet_values`; the upload's answer is `upload_answer`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from pydantic import ValidationError

from xueji_contracts.calendar import local_date
from xueji_registry.domain.enrollment_request import EnrollmentRequest, admitted_after, born_after, contradictions
from xueji_registry.enrollment.sheet_files import MAX_ROWS, FileProblem, read_table
from xueji_registry.enrollment.sheet_headers import BASIC, MANY, find_header, holds_header, named_as_header
from xueji_registry.enrollment.sheet_values import GENDER_WRITTEN, GRADE_WRITTEN, kept_as_number, normalised, unmarked

ROW_NAMESPACE = uuid.UUID("2f0c7b8e-5d2a-4c1e-9b7a-3e6f1d4c8a90")
# The same number as a Number-formatted column saves it to CSV: 18 digits, the last three zeros (350602201903151000).
# A real number ends so about once in 11,000: refused when its check character fails (10 times in 11), else told.
ZEROED = ("ends in 000: Excel most likely kept the column as a number and lost the last three digits; format the "
          "column as text (设置单元格格式 → 文本) and type the number again")  # fmt: skip
ZEROED_BUT_VALID = ("ends in 000: if the column was a number in Excel, its last three digits were lost; compare it "
                    "with the ID card")  # fmt: skip
# What names a child: a row with none of them (a template's numbered row, its grade filled in) is a blank row.
IDENTIFYING = frozenset({"name", "id_number", "birth_date"})
KEPT_AS_NUMBER = ("Excel kept this ID number as a number and only its first 15 digits: format the column as text "
                  "(设置单元格格式 → 文本) and type the number again")  # fmt: skip


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


def read_sheet(filename: str, content: bytes) -> list[list[str]]:
    """The class sheet of an upload as text (`sheet_files.read_table`), a workbook's read from the sheet holding the
    class's header."""
    return read_table(filename, content, holds_header)


def check(table: list[list[str]], school_code: str, school_year: int, today: date | None = None) -> Checked:
    """Validate every row; the good ones as enrollment requests, every bad one with row, column and reason. `today`:
    the China date admission dates are judged by (R02), by default the date now."""
    today = today or local_date(datetime.now(UTC))
    if not table:
        raise FileProblem("the file is empty")
    at, columns = find_header(table)
    titles = {key: title for key, title in columns.values()}
    identifying = [i for i, (key, _) in columns.items() if key in IDENTIFYING]
    name_at = next(i for i, (key, _) in columns.items() if key == "name")
    checked = Checked(titles=titles)
    seen: dict[str, int] = {}
    for number, row in enumerate(table[at + 1 :], start=at + 2):  # the rows as the spreadsheet numbers them
        if not any(cell.strip() for cell in row):
            continue  # blank lines at the end of a sheet
        if not any(i < len(row) and row[i].strip() for i in identifying):
            continue  # a template's row the class did not fill: numbered, its grade or class filled in, no child
        if named_as_header(row, name_at) and holds_header([row]):
            continue  # the header again: over each class of an export, or in English under the Chinese one
        checked.rows += 1
        if checked.rows > MAX_ROWS:
            raise FileProblem(f"more than {MAX_ROWS} rows: split the file")
        # A cell of spaces only (a full-width one too) is an empty cell: "required", not "at least 1 character".
        values = {key: value for i, (key, _) in columns.items() if i < len(row) and row[i] and key not in MANY
                  and (value := normalised(key, row[i])) != ""}  # fmt: skip
        if guardians := [unmarked(row[i]) for i, (key, _) in columns.items() if key == "guardians" and i < len(row)]:
            values["guardians"] = [name for name in guardians if name]
        if kept_as_number(values.get("id_number")):
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
        if (early := admitted_after(request, today) or born_after(request, today)) is not None:
            name = early.field or "row"
            checked.errors.append(RowError(number, name, early.reason, titles.get(name)))
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
    if checked.rows == 0:
        raise FileProblem("the file has a header and no student under it: fill in the class's rows")
    return checked


def _reason(error: Any) -> str:
    """The reason in words a clerk reads where pydantic's are a parser's (a gender, a code's pattern)."""
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "missing":
        return "required"
    given = error.get("input")
    if error["type"] == "string_too_long" and isinstance(given, str):
        most = error.get("ctx", {}).get("max_length")
        note = " (a note beside the name belongs in its own column)" if error["loc"] == ("name",) else ""
        return f"{len(given)} characters: at most {most} are kept{note}"
    if error["type"] == "int_parsing" and error["loc"] == ("school_year",):
        return f"{given} is not a school year: write it as 2026 or 2026-2027"
    if error["type"] == "enum" and error["loc"] == ("gender",):
        return f"{given} is not a gender: {GENDER_WRITTEN}"
    if error["type"] == "string_pattern_mismatch" and error["loc"][-1:] == ("household_register",):
        return (f"{given} is not a division code: 户籍所在地 takes the household register's 6-digit county code "
                "(e.g. 350602), not the place's name or address")  # fmt: skip
    return message


def person_key(request: EnrollmentRequest) -> str:
    if request.id_number:
        return request.id_number
    return f"{request.name}|{request.birth_date}|{request.gender.value}"


def row_correlation(request: EnrollmentRequest, attempt: int = 1) -> uuid.UUID:
    """The same person at the same school is the same request, however often the file is imported; a request that
    was refused is followed by the next attempt's (`attempts`). The first attempt's id is the one rows always had."""
    again = f"|{attempt}" if attempt > 1 else ""
    return uuid.uuid5(ROW_NAMESPACE, f"{request.school_code}|{person_key(request)}{again}")

"""A class sheet's cells as text: CSV or text (UTF-8, GB18030 or UTF-16; commas or tabs) or XLSX, read within limits
a hostile file cannot pass."""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime

from openpyxl.utils.cell import column_index_from_string

MAX_ROWS = 20_000  # a school's intake, with room; larger files are split
# What a class sheet never needs, checked while reading so a hostile file costs no more than a legitimate one: a
# sheet claiming a million rows or 16,384 columns, a cell of megabytes, or a zip that unpacks to gigabytes.
MAX_COLUMNS = 64
MAX_CELLS = 400_000  # non-empty cells
MAX_CELL_CHARS = 2_000
EXACT_DIGITS_UP_TO = 1e15  # a spreadsheet number this large has lost digits: Excel keeps 15 significant ones
MAX_UNPACKED = 48 * 1024 * 1024  # what the zip directory says its members unpack to, all together
MAX_MEMBERS = 500
MAX_SHEETS = 10  # sheets looked at for the class's (instructions, a list of codes, the class)
HEADER_WITHIN = 10  # rows above the header: a title (XX小学2026级新生名单), a date, a note, blank rows
MAX_MERGES = 2_000  # merged ranges: a grade or class merged down each class of a school's sheet


class FileProblem(ValueError):
    """The file as a whole cannot be read (format, header): nothing is imported."""


TEXT_SUFFIXES = (".csv", ".txt", ".tsv")  # .txt: what Excel's 另存为 "Unicode 文本" writes (UTF-16, tab-separated)
SNIFFED = 8192  # characters the delimiter is judged by


def read_table(
    filename: str, content: bytes, is_class: Callable[[list[list[str]]], bool] | None = None
) -> list[list[str]]:
    """The sheet's cells as text, as the file holds them (a title row above the header is read as a row); CSV or
    text in UTF-8 (with or without BOM), GB18030 (GBK's superset, Excel's CSV on Chinese Windows) or UTF-16 with its
    BOM (Excel's "Unicode text"), separated by commas or tabs; or XLSX (the first sheet whose first rows `is_class`
    takes, else the first; `sheet_rows.read_sheet` gives the header test). CPU-bound: a server calls it off the event
    loop. FileProblem naming the limit or the damage otherwise."""
    if filename.lower().endswith(".xlsx"):
        return _limited(_xlsx_rows(content, is_class))
    if filename.lower().endswith(TEXT_SUFFIXES):
        text = _text(content)
        delimiter = "\t" if text[:SNIFFED].count("\t") > text[:SNIFFED].count(",") else ","
        try:
            # \r, \r\n or \n: as the csv module wants
            return _limited(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
        except csv.Error as exc:
            raise FileProblem(f"not a readable CSV file ({exc})") from None
    raise FileProblem(f"{filename}: upload a .csv or .xlsx file (or Excel's Unicode text, .txt)")


def _text(content: bytes) -> str:
    """The file's text: UTF-16 when it opens with that BOM (no UTF-8 or GB18030 text does), else UTF-8, else
    GB18030."""
    encodings = ("utf-16",) if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) else ()
    for encoding in (*encodings, "utf-8-sig", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise FileProblem("the CSV file is neither UTF-8, GB18030 nor UTF-16 text")


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


def _xlsx_rows(content: bytes, is_class: Callable[[list[list[str]]], bool] | None) -> Iterator[Iterable[object]]:
    """The class's sheet's rows, read as a stream, cells merged down a column read in every row they cover; the zip
    directory is checked before anything is unpacked. The class's sheet: the first whose first HEADER_WITHIN rows
    `is_class` takes (a template's 填写说明 often comes first), else the first."""
    from openpyxl import load_workbook

    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise FileProblem("not a readable .xlsx workbook: the file is truncated or not an .xlsx file") from None
    if len(members) > MAX_MEMBERS or sum(m.file_size for m in members) > MAX_UNPACKED:
        raise FileProblem(f"the workbook unpacks to more than {MAX_UNPACKED // (1024 * 1024)} MB: not a class sheet")
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        sheets = book.worksheets[:MAX_SHEETS]
        sheet = sheets[0]
        if is_class is not None and len(sheets) > 1:
            top = (list(_limited(s.iter_rows(max_row=HEADER_WITHIN, max_col=MAX_COLUMNS + 1, values_only=True)))
                   for s in sheets)  # fmt: skip
            sheet = next((s for s, rows in zip(sheets, top, strict=False) if is_class(rows)), sheet)
        merged = _merged_down(archive, getattr(sheet, "_worksheet_path", None))
        # Bounded: past MAX_ROWS + 2 rows and MAX_COLUMNS + 1 columns nothing is read (nor made up for gaps).
        rows = sheet.iter_rows(max_row=MAX_ROWS + 2, max_col=MAX_COLUMNS + 1, values_only=True)
        yield from _filled_down(rows, merged) if merged else rows
    except FileProblem:
        raise
    except Exception as exc:  # openpyxl, zipfile, zlib and the XML parser raise many kinds for a damaged file
        raise FileProblem(f"not a readable .xlsx workbook: damaged ({type(exc).__name__})") from None


MERGED = re.compile(rb'<(?:\w+:)?mergeCell\s[^>]*?ref="([A-Z]{1,3})([0-9]{1,7}):([A-Z]{1,3})([0-9]{1,7})"')


def _merged_down(archive: zipfile.ZipFile, path: str | None) -> list[tuple[int, int, int]]:
    """The sheet's cells merged down one column (一年级 over the class's rows), as (column, first row, last row),
    1-based, by first row; a block merged across columns is left as the workbook keeps it (its first cell only).
    The merges follow the rows in the sheet's XML: only its tail is searched."""
    if path is None:
        return []
    data = archive.read(path.lstrip("/"))
    found: list[tuple[int, int, int]] = []
    for match in MERGED.finditer(data, max(data.rfind(b"sheetData>"), 0)):
        if len(found) >= MAX_MERGES:
            raise FileProblem(f"more than {MAX_MERGES} merged cell ranges: unmerge the cells (取消合并单元格)")
        first, top, last, bottom = (g.decode() for g in match.groups())
        if first == last and int(top) < int(bottom):
            found.append((column_index_from_string(first), int(top), min(int(bottom), MAX_ROWS + 2)))
    return sorted(found, key=lambda m: m[1])


def _filled_down(rows: Iterable[tuple[object, ...]], merged: list[tuple[int, int, int]]) -> Iterator[list[object]]:
    """The rows with each merged range's first value in every row it covers."""
    active: list[tuple[int, int, object]] = []  # (column, last row, value)
    pending = iter(merged)
    upcoming = next(pending, None)
    for number, values in enumerate(rows, start=1):
        row = list(values)
        active = [a for a in active if a[1] >= number]
        for column, _, value in active:
            if column <= len(row) and row[column - 1] is None:
                row[column - 1] = value
        while upcoming is not None and upcoming[1] <= number:
            column, top, bottom = upcoming
            if top == number and column <= len(row):
                active.append((column, bottom, row[column - 1]))
            upcoming = next(pending, None)
        yield row


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

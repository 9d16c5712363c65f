"""Cells of exported spreadsheets (XLSX, CSV): a text a spreadsheet program would run as a formula is written as
text. Operator ids, names, reasons and details come from clients; `=HYPERLINK(...)` in any of them would otherwise
run on the bureau clerk's machine when the export is opened (CSV/formula injection)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """Text starting a formula gets a leading apostrophe (OWASP's advice); other values are kept as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(values: Iterable[Any]) -> list[Any]:
    return [safe_cell(v) for v in values]

"""Dates as people give them: a day of the calendar, written out. A number (a spreadsheet's serial, a Unix time) or a
year and month alone is refused naming the reason, never read as some other day (pydantic reads "86400" as
1970-01-02 and a bulk reader once read 2012.11 as 2012-01-01)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

YEAR_AND_MONTH = re.compile(r"(\d{4})\s*[-./年]?\s*(\d{1,2})\s*月?")
YEAR_LAST = re.compile(r"\d{1,2}\s*[-./]\s*\d{1,2}\s*[-./]\s*\d{4}")  # 15/03/2019 or 03/15/2019: which is the day?
WRITTEN_OUT = "a date is written as YYYY-MM-DD (e.g. 2019-03-15)"
# What pydantic reads as a day: the day, or a date and time of midnight (2019-03-15T00:00:00) a program may send.
ISO_DAY = re.compile(r"(\d{4}-\d{2}-\d{2})(?:$|[T ])")


def calendar_date(value: Any) -> Any:
    """For a `date` field's before-validator: `value` unchanged, or ValueError naming what is wrong with it."""
    if isinstance(value, bool | int | float):
        raise ValueError(f"{WRITTEN_OUT}, not a number")
    if isinstance(value, str):
        text = value.strip()
        if (found := YEAR_AND_MONTH.fullmatch(text)) and 1 <= int(found.group(2)) <= 12:
            raise ValueError(f"{text} is a year and month only: the full date is needed ({WRITTEN_OUT})")
        if YEAR_LAST.fullmatch(text):
            raise ValueError(f"{text} puts the year last, so which number is the day and which the month is not "
                             f"certain ({WRITTEN_OUT})")  # fmt: skip
        if text.isdigit():
            raise ValueError(f"{WRITTEN_OUT}, not a number ({text})")
        if (day := ISO_DAY.match(text)) is None:
            raise ValueError(f"{text} is not a date: {WRITTEN_OUT}")
        try:
            date.fromisoformat(day.group(1))
        except ValueError:
            raise ValueError(f"{day.group(1)} is not a day of the calendar") from None
    return value

"""Calendar data: one year's holiday notice (or a province's adjustment) and the checked-in national JSON (R31)."""

from __future__ import annotations

import json
from datetime import date
from importlib.resources import files
from pathlib import Path
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

NATIONAL_RESOURCE = "calendar_cn.json"


class CalendarDays(BaseModel):
    """Days that differ from a Monday-Friday week: rest days on weekdays, working days on weekends.

    Used for a State Council notice (one year) and for a province's own adjustments. A weekend
    rest day or a weekday working day is allowed and simply changes nothing, so an admin may paste
    a notice's whole holiday ranges.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    rest_days: frozenset[date] = frozenset()
    working_days: frozenset[date] = frozenset()
    names: dict[date, str] = Field(default_factory=dict, description="holiday name per day, where known")
    source: str | None = Field(default=None, description="e.g. the notice's document number")

    @model_validator(mode="after")
    def _rest_and_work_are_disjoint(self) -> Self:
        both = sorted(self.rest_days & self.working_days)
        if both:
            raise ValueError(f"days both rest and working: {', '.join(d.isoformat() for d in both)}")
        return self

    def all_in_year(self, year: int) -> CalendarDays:
        """Self, after checking a notice for `year` names only days of that year."""
        stray = sorted(d for d in self.rest_days | self.working_days if d.year != year)
        if stray:
            raise ValueError(f"notice for {year} names days of another year: {', '.join(map(str, stray))}")
        return self

    def content(self) -> tuple[list[str], list[str]]:
        """What decides working days (names and source do not): for the calendar's version hash."""
        return sorted(map(str, self.rest_days)), sorted(map(str, self.working_days))


def _year_days(year: int, raw: dict[str, Any], source: str) -> CalendarDays:
    names = {
        date.fromisoformat(entry["date"]): entry["name"]
        for kind in ("rest_days", "working_days")
        for entry in raw.get(kind, [])
        if entry.get("name")
    }
    days = CalendarDays(
        rest_days=frozenset(date.fromisoformat(e["date"]) for e in raw.get("rest_days", [])),
        working_days=frozenset(date.fromisoformat(e["date"]) for e in raw.get("working_days", [])),
        names=names,
        source=source,
    )
    return days.all_in_year(year)


def parse_national(text: str) -> dict[int, CalendarDays]:
    """The notices in a calendar_cn.json document, by year; ValueError says what is wrong."""
    try:
        document = json.loads(text)
        source = str(document.get("generated_with") or document.get("source") or "calendar_cn.json")
        return {int(year): _year_days(int(year), raw, source) for year, raw in document["years"].items()}
    except (ValueError, KeyError, TypeError, AttributeError) as error:  # ValidationError is a ValueError
        raise ValueError(f"invalid calendar document: {error}") from error


def read_national(path: str | Path | None = None) -> dict[int, CalendarDays]:
    """The national notices from `path` (e.g. a newer ConfigMap copy) or from the packaged JSON."""
    if path is None:
        text = files("xueji_contracts").joinpath("data", NATIONAL_RESOURCE).read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    return parse_national(text)

"""Provincial supplementary-number layouts (R07) and graduation certificate numbers (R08), declared as data.

A layout is written as in the Fujian measures, one group per field, e.g. "1 yy CC TT SS NNNN":
a group of digits is a fixed code (the school segment), letters name a field:
y = last two digits of the school (or graduation) year, C = county, T = township, S = school,
N = the school's sequence number.
"""

from __future__ import annotations

import functools
import re
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

FIELDS = {"y": "year", "C": "county", "T": "township", "S": "school", "N": "sequence"}


class SchoolLevel(StrEnum):
    PRIMARY = "primary"
    JUNIOR = "junior"
    SENIOR = "senior"


@functools.lru_cache(maxsize=64)
def _groups(layout: str) -> tuple[tuple[str, int, str | None], ...]:
    """(field name, digits, fixed value or None) per group; ValueError on anything else. Read once per layout: every
    number composed or split asks for its groups (a province's class of 500 asked 2,000 times)."""
    groups: list[tuple[str, int, str | None]] = []
    for group in layout.split():
        if group.isdigit():
            groups.append(("segment", len(group), group))
        elif len(set(group)) == 1 and group[0] in FIELDS:
            groups.append((FIELDS[group[0]], len(group), None))
        else:
            raise ValueError(f"group {group!r}: use digits or one repeated letter of {''.join(FIELDS)}")
    names = [name for name, _, _ in groups]
    if len(set(names)) != len(names):
        raise ValueError("each field may appear once")
    if "year" not in names or "sequence" not in names:
        raise ValueError("a layout needs a year (yy) and a sequence (N...)")
    return tuple(groups)


class NumberLayout(BaseModel):
    """One school level's layout; validates, composes and splits numbers."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    layout: str = Field(examples=["1 yy CC TT SS NNNN"])

    @field_validator("layout")
    @classmethod
    def _parses(cls, value: str) -> str:
        _groups(value)
        return value

    @property
    def length(self) -> int:
        return sum(digits for _, digits, _ in _groups(self.layout))

    @property
    def fields(self) -> tuple[str, ...]:
        """The fields a caller supplies (the fixed segment is not one of them)."""
        return tuple(name for name, _, fixed in _groups(self.layout) if fixed is None)

    def digits(self, field: str) -> int | None:
        """How many digits `field` takes in this layout, or None when the layout has no such field."""
        return next((digits for name, digits, fixed in _groups(self.layout) if name == field and fixed is None), None)

    def compose(self, **values: int | str) -> str:
        """The number for these field values; `year` may be a full year (2016 -> "16")."""
        missing, extra = set(self.fields) - set(values), set(values) - set(self.fields)
        if missing or extra:
            raise ValueError(
                f"fields needed: {', '.join(self.fields)}; missing {sorted(missing)}, unknown {sorted(extra)}"
            )
        out = []
        for name, digits, fixed in _groups(self.layout):
            if fixed is not None:
                out.append(fixed)
                continue
            value = str(values[name])
            value = value.zfill(digits)[-digits:] if name == "year" else value.zfill(digits)
            if len(value) != digits or not value.isdigit():
                raise ValueError(f"{name} must fit in {digits} digits, got {values[name]!r}")
            out.append(value)
        return "".join(out)

    def series(self, **values: int | str) -> str:
        """The numbers these field values (all but the sequence) begin: composed with the sequence digits left as
        N, e.g. "124020001NNNN". Numbers of one series differ only in their sequence; two of different series never
        coincide."""
        digits = self.digits("sequence") or 0
        composed = self.compose(**values, sequence="0" * digits)
        at = sum(d for name, d, _ in _groups(self.layout)[: self._sequence_group()])
        return composed[:at] + "N" * digits + composed[at + digits :]

    def _sequence_group(self) -> int:
        return next(i for i, (name, _, fixed) in enumerate(_groups(self.layout)) if name == "sequence" and not fixed)

    def parse(self, number: str) -> dict[str, str]:
        """The field values of a number; ValueError when it does not follow the layout."""
        pattern = "".join(
            re.escape(fixed) if fixed else f"(?P<{name}>\\d{{{digits}}})"
            for name, digits, fixed in _groups(self.layout)
        )
        match = re.fullmatch(pattern, number)
        if match is None:
            raise ValueError(f"{number!r} does not follow the layout {self.layout!r} ({self.length} digits)")
        return match.groupdict()


class SupplementaryNumberFormat(BaseModel):
    """R07: the province's supplementary number per school level; R08: certificates reuse it behind a prefix."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    primary: NumberLayout
    junior: NumberLayout
    senior: NumberLayout
    certificate_prefix: str = Field(default="B", min_length=1, max_length=2)

    @field_validator("primary", "junior", "senior", mode="before")
    @classmethod
    def _from_text(cls, value: object) -> object:
        return {"layout": value} if isinstance(value, str) else value

    def layout_for(self, level: SchoolLevel) -> NumberLayout:
        layout: NumberLayout = getattr(self, level.value)
        return layout

    def certificate_number(self, level: SchoolLevel, **values: int | str) -> str:
        """R08: the graduation certificate number, `year` being the graduation year."""
        return self.certificate_prefix + self.layout_for(level).compose(**values)

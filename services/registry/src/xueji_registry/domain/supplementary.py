"""Provincial supplementary numbers (R07) and graduation certificate numbers (R08): pure formatting.

The layout is the province's (`supplementary_number` in its policy file, e.g. "1 yy CC TT SS NNNN"); a province
whose policy sets none gives no supplementary number and no certificate number layout.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from xueji_contracts.policy import NumberLayout, SchoolLevel, SupplementaryNumberFormat
from xueji_registry.domain.errors import Refused
from xueji_registry.domain.periods import Segment

_TWO_DIGITS = r"^\d{2}$"


class SchoolNumbering(BaseModel):
    """A school's place in the layout: county and township codes and its school code, arranged by the county."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    county: str = Field(pattern=_TWO_DIGITS)
    township: str | None = Field(default=None, pattern=_TWO_DIGITS)
    school: str = Field(pattern=_TWO_DIGITS)


def numbering_of(school_code: str) -> SchoolNumbering:
    """The school's place in the layout, read from its 10-digit code: the county division code's last two digits
    (5-6), then the 4-digit school number as township (7-8) and school (9-10). R07: the school where a student
    registers as a segment's freshman gives that segment's number, and R08's certificate the school it graduates
    from, so a number's school digits are always its school's, never a caller's choice."""
    return SchoolNumbering(county=school_code[4:6], township=school_code[6:8], school=school_code[8:10])


def _fields(
    layout: SupplementaryNumberFormat | None, segment: Segment, year: int, at: SchoolNumbering, rule: str
) -> tuple[NumberLayout, dict[str, int | str]]:
    """The segment's layout and the values of its fields but the sequence; refused when they do not fit."""
    if layout is None:
        raise Refused(rule, "the province's policy sets no supplementary number layout", field="layout")
    if not 2000 <= year <= 2099:
        raise Refused(rule, f"year must be 2000-2099 (two digits are kept), got {year}", field="year")
    level = layout.layout_for(SchoolLevel(segment.value))
    # A school that teaches several segments has one township; a level whose layout has none leaves it out.
    values: dict[str, int | str] = {"year": year, "county": at.county, "school": at.school}
    if "township" in level.fields:
        if at.township is None:
            raise Refused(rule, f"a {segment.value} number needs the township code", field="township")
        values["township"] = at.township
    return level, {name: value for name, value in values.items() if name in level.fields}


def _compose(
    layout: SupplementaryNumberFormat | None,
    segment: Segment,
    year: int,
    at: SchoolNumbering,
    sequence: int,
    rule: str,
) -> str:
    level, values = _fields(layout, segment, year, at, rule)
    digits = level.digits("sequence") or 0
    if not 1 <= sequence < 10**digits:
        raise Refused(
            rule,
            f"sequence {sequence} is outside 1..{10**digits - 1}: the numbers of this series and year are used up",
            field="sequence",
        )
    try:
        return level.compose(**values, sequence=sequence)
    except ValueError as exc:
        raise Refused(rule, f"{exc} (layout {level.layout!r})", field="numbering") from None


def supplementary_series(
    segment: Segment, school_year: int, at: SchoolNumbering, layout: SupplementaryNumberFormat | None
) -> str:
    """R07: what the numbers of `segment`'s freshmen of `school_year` at the school `at` begin with, the sequence
    left as N ("124020001NNNN"). Schools the layout cannot tell apart (the same county, township and school digits)
    share a series, so its sequence is the province's: one number is never given twice."""
    return _series(layout, segment, school_year, at, "R07")


def certificate_series(
    segment: Segment, graduation_year: int, at: SchoolNumbering, layout: SupplementaryNumberFormat | None
) -> str:
    """R08: what the certificate numbers of `segment`'s graduates of `graduation_year` at the school `at` begin with,
    the sequence left as N ("B2270212NNNN"): as for R07, schools the layout cannot tell apart share it."""
    series = _series(layout, segment, graduation_year, at, "R08")
    assert layout is not None  # _series refused otherwise
    return layout.certificate_prefix + series


def read_certificate_number(number: str, layout: SupplementaryNumberFormat) -> set[tuple[str, int]]:
    """R08: the series and sequence of a certificate number of the layout, read back from its digits: one reading
    for each school level whose layout the number follows (none when it follows none). A number two levels' layouts
    both follow is read both ways: an upgrade counting it in each series may skip numbers, never give one twice."""
    prefix = layout.certificate_prefix
    if not number.startswith(prefix):
        return set()
    found: set[tuple[str, int]] = set()
    for level in SchoolLevel:
        numbers = layout.layout_for(level)
        try:
            fields: dict[str, int | str] = {**numbers.parse(number.removeprefix(prefix))}
        except ValueError:
            continue
        sequence = int(fields.pop("sequence"))
        found.add((prefix + numbers.series(**fields), sequence))
    return found


def _series(
    layout: SupplementaryNumberFormat | None, segment: Segment, year: int, at: SchoolNumbering, rule: str
) -> str:
    level, values = _fields(layout, segment, year, at, rule)
    try:
        return level.series(**values)
    except ValueError as exc:
        raise Refused(rule, f"{exc} (layout {level.layout!r})", field="numbering") from None


def supplementary_number(
    segment: Segment, school_year: int, at: SchoolNumbering, sequence: int, layout: SupplementaryNumberFormat | None
) -> str:
    """R07: the supplementary number of the `sequence`-th freshman of `school_year` at the school `at`."""
    return _compose(layout, segment, school_year, at, sequence, "R07")


def certificate_number(
    segment: Segment, graduation_year: int, at: SchoolNumbering, sequence: int, layout: SupplementaryNumberFormat | None
) -> str:
    """R08: the same layout with the graduation year in digits 2-3, behind the province's prefix (B)."""
    number = _compose(layout, segment, graduation_year, at, sequence, "R08")
    assert layout is not None  # _compose refused otherwise
    return layout.certificate_prefix + number

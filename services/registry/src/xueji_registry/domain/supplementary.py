"""Provincial supplementary numbers (R07) and graduation certificate numbers (R08): pure formatting.

Fujian (002 II.2): primary `1 yy CC TT SS NNNN` (13 digits), junior/senior `S yy CC SS NNNN` (11 digits).
The province policy in contracts can build a `SupplementaryLayout` once it is wired; Fujian is the default.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field

from xueji_registry.domain.errors import Refused
from xueji_registry.domain.periods import Segment

_TWO_DIGITS = r"^\d{2}$"


class SupplementaryLayout(BaseModel):
    """The parts of a supplementary number, in the order segment, yy, county, [township], school, sequence."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    segment_codes: Mapping[Segment, str] = Field(
        default_factory=lambda: {Segment.PRIMARY: "1", Segment.JUNIOR: "2", Segment.SENIOR: "3"}
    )
    township_segments: frozenset[Segment] = frozenset({Segment.PRIMARY})
    sequence_digits: int = Field(default=4, ge=1, le=6)
    certificate_prefix: str = Field(default="B", min_length=1, max_length=2)

    @property
    def max_sequence(self) -> int:
        return int(10**self.sequence_digits) - 1


FUJIAN = SupplementaryLayout()


class SchoolNumbering(BaseModel):
    """A school's place in the layout: county and township codes and its school code, arranged by the county."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    county: str = Field(pattern=_TWO_DIGITS)
    township: str | None = Field(default=None, pattern=_TWO_DIGITS)
    school: str = Field(pattern=_TWO_DIGITS)


def _compose(
    layout: SupplementaryLayout, segment: Segment, year: int, at: SchoolNumbering, sequence: int, rule: str
) -> str:
    if not 2000 <= year <= 2099:
        raise Refused(rule, f"year must be 2000-2099 (two digits are kept), got {year}", field="year")
    if not 1 <= sequence <= layout.max_sequence:
        raise Refused(
            rule,
            f"sequence {sequence} is outside 1..{layout.max_sequence}: the school's numbers for this year are used up",
            field="sequence",
        )
    # A school that teaches several segments has one township; segments without it simply leave it out.
    township = ""
    if segment in layout.township_segments:
        if at.township is None:
            raise Refused(rule, f"a {segment.value} number needs the township code", field="township")
        township = at.township
    return (
        f"{layout.segment_codes[segment]}{year % 100:02d}{at.county}{township}{at.school}"
        f"{sequence:0{layout.sequence_digits}d}"
    )


def supplementary_number(
    segment: Segment, school_year: int, at: SchoolNumbering, sequence: int, layout: SupplementaryLayout = FUJIAN
) -> str:
    """R07: the supplementary number of the `sequence`-th freshman of `school_year` at the school `at`."""
    return _compose(layout, segment, school_year, at, sequence, "R07")


def certificate_number(
    segment: Segment, graduation_year: int, at: SchoolNumbering, sequence: int, layout: SupplementaryLayout = FUJIAN
) -> str:
    """R08: the same layout with the graduation year in digits 2-3, behind the prefix B."""
    return layout.certificate_prefix + _compose(layout, segment, graduation_year, at, sequence, "R08")

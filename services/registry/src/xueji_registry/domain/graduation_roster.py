"""R46, R08: a school's graduation roster for one year and segment — every enrolled student in the graduation grade,
in the order of their status numbers, each numbered by place; their graduation certificate numbers (B + the
supplementary layout with the graduation year) are drawn from the series' sequence when the county bureau approves.
Students the school leaves off (courses done but requirements not met: a completion certificate instead) are
listed with the reason.

Pure: the caller passes the records; the county bureau's approval of the roster is what graduates them."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence

from pydantic import BaseModel, ConfigDict, Field

from xueji_contracts.messages.status import StatusState
from xueji_registry.domain.errors import Refused
from xueji_registry.domain.periods import Segment
from xueji_registry.domain.public_view import public_view
from xueji_registry.domain.state import StudentStatus

# 002 III.14: junior and senior graduates are on a roster the county bureau approves; primary pupils graduate
# through the school's own record (no roster, no certificate number of this layout).
ROSTER_SEGMENTS = frozenset({Segment.JUNIOR, Segment.SENIOR})


class GraduateLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    sequence: int = Field(ge=1, description="place on the roster")
    student_id: str
    name: str
    status_number_masked: str  # R52: the roster leaves the school
    # R08: given when the county bureau approves the roster (the series' next numbers), so None on the roster as
    # composed; a roster of an earlier version carries the number it composed from the place.
    certificate_number: str | None = None


class LeftOff(BaseModel):
    model_config = ConfigDict(frozen=True)

    student_id: str
    name: str
    reason: str


class GraduationRoster(BaseModel):
    model_config = ConfigDict(frozen=True)

    school_code: str
    graduation_year: int
    segment: Segment
    graduates: list[GraduateLine]
    left_off: list[LeftOff]

    def digest(self) -> str:
        """SHA-256 of the roster's content: the evidence reference each graduate's record keeps (R12)."""
        content = json.dumps(self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False).encode()
        return hashlib.sha256(content).hexdigest()


def candidates(records: Iterable[StudentStatus], school_code: str, segment: Segment) -> list[StudentStatus]:
    """Enrolled at the school, in the segment, in its graduation grade; ordered by status number (stable, unique)."""
    found = [
        r
        for r in records
        if r.school_code == school_code
        and r.segment is segment
        and r.state is StatusState.ENROLLED
        and r.grade == r.graduation_grade
    ]
    return sorted(found, key=lambda r: (r.status_number, r.student_id))


def compose(
    records: Sequence[StudentStatus],
    school_code: str,
    graduation_year: int,
    segment: Segment,
    left_off: Mapping[str, str],
) -> GraduationRoster:
    """The roster as it stands now; `left_off` maps a candidate's student id to the reason it is not on it."""
    if segment not in ROSTER_SEGMENTS:
        raise Refused("R46", "primary pupils graduate without a roster: record it on the student", field="segment")
    eligible = candidates(records, school_code, segment)
    known = {r.student_id for r in eligible}
    strangers = sorted(set(left_off) - known)
    if strangers:
        detail = f"{', '.join(strangers)} not enrolled here in the graduation grade"
        raise Refused("R46", detail, field="left_off")
    on_roster = [r for r in eligible if r.student_id not in left_off]
    if not on_roster:
        raise Refused("R46", f"no {segment.value} student of {school_code} would graduate", field="segment")
    graduates = [
        GraduateLine(
            sequence=place,
            student_id=record.student_id,
            name=record.identity.name,
            status_number_masked=public_view(record).status_number_masked,
        )
        for place, record in enumerate(on_roster, start=1)
    ]
    kept_off = [r for r in eligible if r.student_id in left_off]
    return GraduationRoster(
        school_code=school_code,
        graduation_year=graduation_year,
        segment=segment,
        graduates=graduates,
        left_off=[
            LeftOff(student_id=r.student_id, name=r.identity.name, reason=left_off[r.student_id]) for r in kept_off
        ],
    )

"""R46, R08: a school's graduation roster for one year and segment — every enrolled student in the graduation grade,
in the order of their status numbers, each with the graduation certificate number the roster gives them (B + the
supplementary layout with the graduation year, sequence = place on the roster; numbers already issued skipped).
Students the school leaves off (courses done but requirements not met: a completion certificate instead) are
listed with the reason.

Pure: the caller passes the records; the county bureau's approval of the roster is what graduates them."""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Iterable, Mapping, Sequence

from pydantic import BaseModel, ConfigDict, Field

from xueji_contracts.messages.status import StatusState
from xueji_contracts.policy import SupplementaryNumberFormat
from xueji_registry.domain.errors import Refused
from xueji_registry.domain.periods import Segment
from xueji_registry.domain.public_view import public_view
from xueji_registry.domain.state import CertificateKind, StudentStatus
from xueji_registry.domain.supplementary import SchoolNumbering, certificate_number

# 002 III.14: junior and senior graduates are on a roster the county bureau approves; primary pupils graduate
# through the school's own record (no roster, no certificate number of this layout).
ROSTER_SEGMENTS = frozenset({Segment.JUNIOR, Segment.SENIOR})


class GraduateLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    sequence: int = Field(ge=1, description="place on the roster: the certificate number's sequence")
    student_id: str
    name: str
    status_number_masked: str  # R52: the roster leaves the school
    certificate_number: str | None  # R08: None where the province's policy sets no number layout


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
    numbering: SchoolNumbering,
    layout: SupplementaryNumberFormat | None,
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
    # R08: a certificate number is never issued twice; places already issued (a graduation recorded on its own)
    # are skipped.
    issued = {c.number for r in records for c in r.certificates if c.kind is CertificateKind.GRADUATION}

    def number(place: int) -> str | None:
        return certificate_number(segment, graduation_year, numbering, place, layout) if layout else None

    places = (n for n in itertools.count(1) if layout is None or number(n) not in issued)
    graduates = [
        GraduateLine(
            sequence=place,
            student_id=record.student_id,
            name=record.identity.name,
            status_number_masked=public_view(record).status_number_masked,
            certificate_number=number(place),
        )
        for place, record in zip(places, on_roster, strict=False)  # places never run out
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

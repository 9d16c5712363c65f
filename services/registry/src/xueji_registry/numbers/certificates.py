"""R08 graduation certificate numbers: drawn when a graduation takes effect (the county bureau approves a roster, or a
change graduates a student), from the sequence of the certificate's series (`certificate_scope`: every digit before
the sequence), which schools of one series share, by the same claims and unique inserts as R07's supplementary
numbers: gapless per series and never given twice."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import datetime

from xueji_contracts.policy import SupplementaryNumberFormat
from xueji_kit.aggregates import Saved
from xueji_registry.allocation import Sequences
from xueji_registry.domain import Command, RequestChange, ReviewChange, SchoolNumbering
from xueji_registry.domain.graduation_roster import GraduationRoster, candidates
from xueji_registry.domain.periods import Segment
from xueji_registry.domain.preconditions import CertificateUndrawn
from xueji_registry.domain.state import StudentStatus
from xueji_registry.domain.supplementary import certificate_series, numbering_of
from xueji_registry.service import RegistryService

Records = Mapping[str, StudentStatus | None]  # student id -> the record as the approval found it (None: none)
CERTIFICATES = "R08:"  # a certificate series' sequence: R08:{the number's digits before the sequence}, R08:B2270212NNNN


@functools.lru_cache(maxsize=4096)  # a province's schools and years, asked once a roster
def certificate_scope(
    segment: Segment, graduation_year: int, school_code: str, layout: SupplementaryNumberFormat | None
) -> str:
    """R08: the sequence a graduate's certificate number is drawn from: its series, not its school, so two schools
    whose codes give the same digits never give one number twice. Refused (R08) when the layout has no number for
    the school."""
    return CERTIFICATES + certificate_series(segment, graduation_year, numbering_of(school_code), layout)


async def certificate_places(
    sequences: Sequences, roster: GraduationRoster, records: Records, layout: SupplementaryNumberFormat | None
) -> dict[str, int]:
    """The certificate sequence of each student on the approved roster whose record (in `records`) is still to
    graduate at the school, drawn in roster order from the roster's series. Only they take one, so a student who left
    meanwhile breaks no code; a resumed approval finds each student's own again (their claims). None taken where the
    province's policy sets no layout."""
    waiting = {r.student_id for r in candidates([r for r in records.values() if r], roster.school_code, roster.segment)}
    students = [line.student_id for line in roster.graduates if line.student_id in waiting]
    at = numbering_of(roster.school_code)
    return await draw_certificates(sequences, roster.segment, roster.graduation_year, at, students, layout)


async def draw_certificates(
    sequences: Sequences,
    segment: Segment,
    graduation_year: int,
    at: SchoolNumbering,
    students: list[str],
    layout: SupplementaryNumberFormat | None,
) -> dict[str, int]:
    """The certificate sequence of each of `students`, graduates of `segment` in `graduation_year` at the school the
    layout places `at`, drawn in order from their series. Each is held by a claim keyed by the student, so a student
    asked for again (a resumed approval, a retried or redelivered change) gets their own back. None taken where the
    province's policy sets no layout."""
    if layout is None or not students:
        return {}
    scope = CERTIFICATES + certificate_series(segment, graduation_year, at, layout)
    return dict(zip(students, await sequences.allocate_many(scope, students), strict=True))


async def execute_drawing(
    service: RegistryService, student_id: str, commit_id: str, command: Command, *, now: datetime | None = None
) -> Saved:
    """`service.execute`, drawing the certificate sequence of a graduation the command makes take effect (a primary
    diploma requested, a junior or senior one approved): the domain asks for it (CertificateUndrawn) only once every
    other check passed, so a refused graduation takes no number; the command is decided again with it."""
    try:
        return await service.execute(student_id, commit_id, command, now=now)
    except CertificateUndrawn as undrawn:
        if not isinstance(command, RequestChange | ReviewChange):
            raise  # pragma: no cover - only these two make a change take effect without national checks
        graduate, layout = undrawn.details, service.rules.layout
        drawn = await draw_certificates(
            service.sequences, undrawn.segment, graduate.graduation_year, undrawn.numbering, [student_id], layout
        )
        command = command.model_copy(update={"certificate_sequence": drawn[student_id]})
        return await service.execute(student_id, commit_id, command, now=now)

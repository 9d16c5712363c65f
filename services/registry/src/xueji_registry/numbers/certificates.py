"""R08 graduation certificate numbers: drawn when the county bureau approves a roster, from the sequence of the
certificate's series (`certificate_scope`: every digit before the sequence), which schools of one series share, by the
same claims and unique inserts as R07's supplementary numbers: gapless per series and never given twice."""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Mapping

import structlog

from xueji_contracts.policy import SupplementaryNumberFormat
from xueji_kit.store import Document, EventStore
from xueji_registry.allocation import Sequences
from xueji_registry.domain.errors import Refused
from xueji_registry.domain.graduation_review import STREAMS, RosterStatus, from_documents, replay
from xueji_registry.domain.graduation_roster import GraduationRoster, candidates
from xueji_registry.domain.periods import Segment
from xueji_registry.domain.state import StudentStatus
from xueji_registry.domain.supplementary import certificate_series
from xueji_registry.numbers.supplementary import numbering_of

log = structlog.get_logger("registry.numbers")

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
    if layout is None or not students:
        return {}
    scope = certificate_scope(roster.segment, roster.graduation_year, roster.school_code, layout)
    return dict(zip(students, await sequences.allocate_many(scope, students), strict=True))


async def carry_over_roster_places(
    sequences: Sequences, events: EventStore, layout: SupplementaryNumberFormat | None
) -> None:
    """Run once at start: an earlier version numbered a school's certificates by place on its approved roster, each
    school from 1. Each series starts above the highest place numbered on an approved roster of every school it
    covers, so no such number is given again. Reads the rosters' streams once (an `_id` range, never on a request
    path); done once (marked by `{CERTIFICATES}upgraded!floor`); safe to repeat or to run on two replicas at once."""

    async def floors() -> dict[str, int]:
        streams: defaultdict[str, list[Document]] = defaultdict(list)
        async for commit in events.every_commit({"_id": {"$gte": STREAMS, "$lt": STREAMS[:-1] + ";"}}):
            streams[commit["aggregate_id"]].append(commit)
        found: dict[str, int] = {}
        for commits in streams.values():
            commits.sort(key=lambda c: int(c["version"]))
            state = replay(from_documents([e for c in commits for e in c["events"]]))
            if state.status is not RosterStatus.APPROVED or state.submission is None:
                continue
            roster = state.submission.roster
            places = [line.sequence for line in roster.graduates if line.certificate_number is not None]
            try:
                series = certificate_scope(roster.segment, roster.graduation_year, roster.school_code, layout)
            except Refused:
                continue  # a school the layout has no number for
            found[series] = max(found.get(series, 0), *places, 0)
        return found

    done = f"{CERTIFICATES}upgraded"
    if layout is not None and (count := await sequences.start_above_once(done, floors)) is not None:
        log.info("r08_series_above_former_roster_places", series=count)

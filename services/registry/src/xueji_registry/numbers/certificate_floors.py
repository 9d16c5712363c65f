"""R08 upgrades: each certificate series starts above every number given before the registry drew them from it."""

from __future__ import annotations

from collections import defaultdict

import structlog

from xueji_contracts.policy import SupplementaryNumberFormat
from xueji_kit.event_store import EventStore
from xueji_kit.store import Document
from xueji_registry.allocation import Sequences
from xueji_registry.domain.errors import Refused
from xueji_registry.domain.graduation_review import STREAMS, RosterStatus, from_documents, replay
from xueji_registry.domain.supplementary import read_certificate_number
from xueji_registry.numbers.certificates import CERTIFICATES, certificate_scope

log = structlog.get_logger("registry.numbers")


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


async def carry_over_held_numbers(
    sequences: Sequences, events: EventStore, layout: SupplementaryNumberFormat | None
) -> None:
    """Run once at start, after `carry_over_roster_places`: an earlier version let the caller of the changes API name
    a graduation's certificate sequence, so a record may hold a number of a series above every place a roster
    numbered, or above what the series drew after it was upgraded from the rosters alone. Each series' floor is
    raised to the highest sequence a record's certificate of it has (read back from the number, however it was
    given; never lowered, so what the series drew stays taken): none is drawn again. Reads every commit once (a
    scan, never on a request path: a record's stream may have any id); done once (marked by
    `{CERTIFICATES}held!floor`); safe to repeat or to run on two replicas at once."""

    async def floors() -> dict[str, int]:
        assert layout is not None
        found: dict[str, int] = {}
        async for commit in events.every_commit():
            for event in commit["events"]:
                if event.get("type") != "graduated" or not event.get("certificate_number"):
                    continue
                for series, sequence in read_certificate_number(str(event["certificate_number"]), layout):
                    found[CERTIFICATES + series] = max(found.get(CERTIFICATES + series, 0), sequence)
        return found

    done = f"{CERTIFICATES}held"
    if layout is not None and (count := await sequences.start_above_once(done, floors)) is not None:
        log.info("r08_series_above_the_numbers_records_hold", series=count)

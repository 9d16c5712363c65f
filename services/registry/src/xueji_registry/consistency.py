"""The consistency checker: rebuilds the school register and the compliance deadlines from the event streams and
names every place where the projections differ from them (issue 15; used by tests and by operators after an
incident). Reads every commit once: an administration tool, not a request path.

    python -m xueji_registry.consistency

Run it where the registry runs (same environment: MONGODB_URI, XUEJI_MONGODB_DATABASE): one line per difference,
exit 1 when there is one. See docs/operations.md, "Parked follow-ups".
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections import defaultdict
from dataclasses import dataclass, replace
from typing import Any

from xueji_kit.event_store import EventStore
from xueji_kit.operator_cli import service_database
from xueji_kit.store import Document
from xueji_kit.timers import TimerStore
from xueji_registry.domain import StudentStatus, annual_roster_stream, from_documents
from xueji_registry.domain.apply import apply
from xueji_registry.domain.compliance import Deadline, annual_roster, deadlines_of


@dataclass(frozen=True)
class Difference:
    projection: str  # "school_register" or "compliance_timers"
    subject: str  # the student id, or the timer id
    expected: Any
    found: Any


async def differences(events: EventStore) -> list[Difference]:
    """Every difference between the projections and what the streams say they must hold (empty: consistent)."""
    streams = await _streams(events)
    students = {a: _replayed(c) for a, c in streams.items() if a.startswith("stu_")}
    found = await _register_differences(events, {a: s for a, s in students.items() if s[0] is not None})
    deadlines = [d for state, _ in students.values() for d in deadlines_of(state).values()]
    deadlines += _open_rosters(streams)
    found += await _timer_differences(TimerStore(events.collection.database), deadlines)
    return found


async def _streams(events: EventStore) -> dict[str, list[Document]]:
    streams: dict[str, list[Document]] = defaultdict(list)
    async for commit in events.every_commit():
        streams[str(commit.get("aggregate_id", ""))].append(commit)
    for commits in streams.values():
        commits.sort(key=lambda c: int(c["version"]))
    return streams


def _replayed(commits: list[Document]) -> tuple[StudentStatus | None, list[str]]:
    state: StudentStatus | None = None
    schools: list[str] = []
    for event in from_documents([e for c in commits for e in c["events"]]):
        state = apply(state, event)
        if state.school_code not in schools:
            schools.append(state.school_code)
    return state, schools


async def _register_differences(
    events: EventStore, students: dict[str, tuple[StudentStatus | None, list[str]]]
) -> list[Difference]:
    register = events.collection.database["school_register"]
    listed = {str(d["_id"]): d async for d in register.find({})}
    found = []
    for student_id, (state, schools) in students.items():
        assert state is not None
        expected = {"school_code": state.school_code, "schools": sorted(schools)}
        doc = listed.pop(student_id, None)
        have = None if doc is None else {"school_code": doc.get("school_code"), "schools": sorted(doc["schools"])}
        if have != expected:
            found.append(Difference("school_register", student_id, expected, have))
    found += [Difference("school_register", sid, None, doc) for sid, doc in listed.items()]
    return found


def _open_rosters(streams: dict[str, list[Document]]) -> list[Deadline]:
    """R54: the annual rosters opened and not yet submitted."""
    open_ = []
    for aggregate, commits in streams.items():
        if not aggregate.startswith("roster:"):
            continue
        rosters = annual_roster_stream.replay(
            annual_roster_stream.from_documents(e for c in commits for e in c["events"])
        )
        if (opened := rosters.opened) is not None and rosters.submission is None:
            # The due day as opened: the province policy's roster_months at the time (R54).
            open_.append(replace(annual_roster(opened.school_code, opened.school_year), due_on=opened.due_on))
    return open_


async def _timer_differences(timers: TimerStore, deadlines: list[Deadline]) -> list[Difference]:
    """An open deadline has both timers armed (or fired already); a cancelled one would never warn."""
    due = [(f"{d.deadline_id}:{phase}", at) for d in deadlines
           for phase, at in (("due_soon", d.warn_at), ("overdue", d.due_at))]  # fmt: skip
    states = await timers.states(due)
    return [Difference("compliance_timers", timer_id, "armed", states[timer_id]) for timer_id, _ in due
            if states[timer_id] not in {"armed", "fired"}]  # fmt: skip


async def _check() -> int:
    async with service_database("registry") as db:
        found = await differences(EventStore(db))
        for d in found:
            print(f"{d.projection}  {d.subject}  expected {d.expected!r}  found {d.found!r}")
        if not found:
            print(
                f"no differences in {db.name}: the school register and the compliance timers are what the streams say"
            )
            return 0
    advice = "requeue the parked follow-ups (python -m xueji_kit.followups), then check again"
    print(f"{len(found)} difference(s): {advice}", file=sys.stderr)
    return 1


def main(argv: list[str] | None = None) -> int:
    assert __doc__ is not None
    argparse.ArgumentParser(
        prog="python -m xueji_registry.consistency", description=__doc__.split("\n\n")[0]
    ).parse_args(argv)
    return asyncio.run(_check())


if __name__ == "__main__":
    sys.exit(main())

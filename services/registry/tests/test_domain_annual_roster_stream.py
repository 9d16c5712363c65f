"""R54: a school's annual rosters of one year as a typed aggregate (opened once, submitted once), and streams stored
before its events were typed (type names roster_opened, roster_submitted) still replaying (pure domain)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from xueji_contracts.auth import OperatorClaims, Role
from xueji_registry.domain import Refused
from xueji_registry.domain import annual_roster_stream as roster_stream
from xueji_registry.domain.annual_roster import AnnualRoster
from xueji_registry.domain.compliance import annual_roster
from xueji_registry.domain.event_base import to_document

SCHOOL = "3506020001"
CLERK = OperatorClaims(sub="clerk-1", role=Role.SCHOOL, code=SCHOOL)
DEADLINE = annual_roster(SCHOOL, 2026)
ROSTER = AnnualRoster(school_code=SCHOOL, school_year=2026, new_students=[], increases=[], decreases=[], on_register=0)
T0 = datetime(2026, 9, 2, 8, 0, tzinfo=UTC)


def _opened() -> roster_stream.AnnualRosterState:
    [opened] = roster_stream.decide_opening(roster_stream.AnnualRosterState(), DEADLINE, 2026, T0)
    return roster_stream.apply(roster_stream.AnnualRosterState(), opened)


def test_r54_the_rosters_open_once_with_the_due_day_of_the_policy() -> None:
    state = _opened()
    assert state.opened is not None and state.opened.due_on == DEADLINE.due_on
    assert roster_stream.decide_opening(state, DEADLINE, 2026, T0 + timedelta(days=1)) == []


def test_r54_the_school_submits_once_on_time_and_a_second_submission_is_refused() -> None:
    submitted = roster_stream.decide_submission(_opened(), ROSTER, CLERK, "annual rosters submitted", (), DEADLINE, T0)
    assert submitted.on_time and submitted.counts == ROSTER.counts
    state = roster_stream.apply(_opened(), submitted)
    with pytest.raises(Refused, match="R54: the 2026 rosters were submitted on 2026-09-02"):
        roster_stream.decide_submission(state, ROSTER, CLERK, "again", (), DEADLINE, T0 + timedelta(days=1))
    late = roster_stream.decide_submission(
        _opened(), ROSTER, CLERK, "late", (), DEADLINE, DEADLINE.due_at + timedelta(minutes=1)
    )
    assert not late.on_time


def test_r54_events_keep_their_stored_shape_under_the_new_names() -> None:
    submitted = roster_stream.decide_submission(_opened(), ROSTER, CLERK, "annual rosters submitted", (), DEADLINE, T0)
    document = to_document(submitted)
    assert document["type"] == "AnnualRosterSubmitted" and document["at"] == T0.isoformat()
    keys = {"type", "school_code", "school_year", "counts", "at", "by", "reason", "evidence", "on_time"}
    assert set(document) == keys
    assert roster_stream.from_documents([document]) == [submitted]


def test_r54_a_stream_stored_before_issue_17_with_snake_case_types_still_replays() -> None:
    """Documents exactly as the untyped roster code wrote them."""
    old = [
        {"type": "roster_opened", "school_code": SCHOOL, "school_year": 2026, "due_on": "2026-10-01",
         "at": "2026-09-02T08:00:00.250000+00:00"},
        {"type": "roster_submitted", "school_code": SCHOOL, "school_year": 2026, "counts": ROSTER.counts,
         "at": "2026-09-20T08:00:00+00:00", "by": {"operator_id": "clerk-1", "role": "school", "code": SCHOOL},
         "reason": "annual rosters submitted", "evidence": [], "on_time": True},
    ]  # fmt: skip
    events = roster_stream.from_documents(old)
    assert [type(e) for e in events] == [roster_stream.AnnualRosterOpened, roster_stream.AnnualRosterSubmitted]
    state = roster_stream.replay(events)
    assert state.opened is not None and state.opened.due_on == date(2026, 10, 1)
    assert state.submission is not None and state.submission.on_time
    again = to_document(events[1])
    assert {k: v for k, v in again.items() if k != "type"} == {k: v for k, v in old[1].items() if k != "type"}

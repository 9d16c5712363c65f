"""R46, R54: when a deadline's timer fires, whether it is still unmet is read from the events of the stream it is
about, stored before issue 17's type names or after (pure domain)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from xueji_contracts.auth import OperatorClaims, Role
from xueji_registry.domain.annual_roster import AnnualRoster
from xueji_registry.domain.annual_roster_stream import AnnualRosterState, decide_opening
from xueji_registry.domain.annual_roster_stream import decide_submission as submit_annual
from xueji_registry.domain.compliance import DeadlineKind, annual_roster, graduation_review
from xueji_registry.domain.deadline_subjects import still_due_after
from xueji_registry.domain.event_base import to_document
from xueji_registry.domain.graduation_review import RosterReview, apply, decide_review, decide_submission
from xueji_registry.domain.graduation_roster import GraduationRoster
from xueji_registry.domain.periods import Segment

SCHOOL = "3506020001"
CLERK = OperatorClaims(sub="clerk-1", role=Role.SCHOOL, code=SCHOOL)
COUNTY = OperatorClaims(sub="county-1", role=Role.COUNTY, code="350602")
T0 = datetime(2026, 9, 2, 8, 0, tzinfo=UTC)


def test_r54_annual_rosters_are_due_until_submitted() -> None:
    deadline = annual_roster(SCHOOL, 2026)
    [opened] = decide_opening(AnnualRosterState(), deadline, 2026, T0)
    roster = AnnualRoster(school_code=SCHOOL, school_year=2026, new_students=[], increases=[], decreases=[],
                          on_register=0)  # fmt: skip
    submitted = submit_annual(AnnualRosterState(opened=opened), roster, CLERK, "submitted", (), deadline, T0)
    assert still_due_after(deadline, [to_document(opened)])
    assert not still_due_after(deadline, [to_document(opened), to_document(submitted)])
    old = [{**to_document(opened), "type": "roster_opened"}, {**to_document(submitted), "type": "roster_submitted"}]
    assert not still_due_after(deadline, old)


def test_r46_a_review_deadline_is_due_while_its_own_submission_awaits_the_bureau() -> None:
    stream = f"graduation:{SCHOOL}:2027:junior"
    roster = GraduationRoster(school_code=SCHOOL, graduation_year=2027, segment=Segment.JUNIOR, graduates=[],
                              left_off=[])  # fmt: skip
    first = decide_submission(RosterReview(), roster, CLERK, "submitted", (), T0)
    state = apply(RosterReview(), first)
    returned = decide_review(state, COUNTY, False, "fix", T0 + timedelta(days=1), submission=1)
    state = apply(state, returned)
    second = decide_submission(state, roster, CLERK, "again", (), T0 + timedelta(days=2))
    history = [to_document(e) for e in (first, returned, second)]
    assert not still_due_after(graduation_review(stream, SCHOOL, 2027, 1), history)  # returned: a new deadline
    assert still_due_after(graduation_review(stream, SCHOOL, 2027, 2), history)
    assert still_due_after(graduation_review(stream, SCHOOL, 2027, 1), [to_document(first)])


def test_r02_a_record_deadline_of_a_stream_with_no_record_is_not_due() -> None:
    deadline = annual_roster(SCHOOL, 2026)
    record_deadline = deadline.__class__(DeadlineKind.STATUS_FILE, "stu_none", SCHOOL, deadline.due_on)
    assert not still_due_after(record_deadline, [])

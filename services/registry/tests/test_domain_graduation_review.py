"""R46: the graduation roster's own stream as a typed aggregate (submit, return, approve, outcome), and streams
stored before its events were typed (snake-case type names) still replaying (pure domain)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from xueji_contracts.auth import OperatorClaims, Role
from xueji_registry.domain import Refused, Segment
from xueji_registry.domain import graduation_review as roster_review
from xueji_registry.domain.event_base import to_document
from xueji_registry.domain.graduation_roster import GraduateLine, GraduationRoster

SCHOOL = "3506020001"
CLERK = OperatorClaims(sub="clerk-1", role=Role.SCHOOL, code=SCHOOL)
COUNTY = OperatorClaims(sub="county-1", role=Role.COUNTY, code="350602")
T0 = datetime(2027, 6, 20, 9, 0, tzinfo=UTC)
ROSTER = GraduationRoster(
    school_code=SCHOOL,
    graduation_year=2027,
    segment=Segment.JUNIOR,
    graduates=[
        GraduateLine(
            sequence=1,
            student_id="stu-a",
            name="林安",
            status_number_masked="L3506022012********11",
            certificate_number="B350627020001000001",
        ),
    ],
    left_off=[],
)


def _submitted(state: roster_review.RosterReview, at: datetime = T0) -> roster_review.GraduationRosterSubmitted:
    return roster_review.decide_submission(state, ROSTER, CLERK, "graduation roster submitted", (), at)


def test_r46_a_submission_awaits_the_county_bureau_and_a_second_one_is_refused_meanwhile() -> None:
    state = roster_review.apply(roster_review.RosterReview(), _submitted(roster_review.RosterReview()))
    assert (state.status, state.submissions) == (roster_review.RosterStatus.SUBMITTED, 1)
    assert state.submission is not None and state.submission.sha256 == ROSTER.digest()
    with pytest.raises(Refused, match="R46.*submitted on 2027-06-20 awaits the county bureau") as refused:
        _submitted(state, T0 + timedelta(days=1))
    assert refused.value.rule == "R46"


def test_r46_a_returned_roster_is_submitted_again_and_an_approved_one_is_not() -> None:
    state = roster_review.apply(roster_review.RosterReview(), _submitted(roster_review.RosterReview()))
    returned = roster_review.decide_review(
        state, COUNTY, False, "two names misspelt", T0 + timedelta(days=1), submission=1
    )
    assert isinstance(returned, roster_review.GraduationRosterReturned) and returned.sha256 == ROSTER.digest()
    state = roster_review.apply(state, returned)
    state = roster_review.apply(state, _submitted(state, T0 + timedelta(days=2)))
    assert (state.status, state.submissions, state.review) == (roster_review.RosterStatus.SUBMITTED, 2, None)
    approved = roster_review.decide_review(state, COUNTY, True, "checked", T0 + timedelta(days=3), submission=2)
    state = roster_review.apply(state, approved)
    assert (
        isinstance(approved, roster_review.GraduationRosterApproved)
        and state.status is roster_review.RosterStatus.APPROVED
    )
    with pytest.raises(Refused, match="R46.*approved on 2027-06-23"):
        _submitted(state, T0 + timedelta(days=4))


def test_r46_nothing_to_review_before_a_submission_nor_for_a_submission_already_decided() -> None:
    with pytest.raises(Refused, match="R46: no roster awaits review: it is draft"):
        roster_review.decide_review(roster_review.RosterReview(), COUNTY, True, "ok", T0, submission=1)
    state = roster_review.apply(roster_review.RosterReview(), _submitted(roster_review.RosterReview()))
    with pytest.raises(Refused, match="R46: no roster awaits review"):
        roster_review.decide_review(state, COUNTY, True, "a stale page's first submission", T0, submission=2)
    state = roster_review.apply(
        state, roster_review.decide_review(state, COUNTY, False, "returned", T0 + timedelta(days=1), submission=1)
    )
    with pytest.raises(Refused, match="it is returned on 2027-06-21"):
        roster_review.decide_review(state, COUNTY, True, "again", T0 + timedelta(days=2), submission=1)


def test_r46_events_are_stored_with_the_shape_they_had_and_read_back_equal() -> None:
    submitted = _submitted(roster_review.RosterReview())
    document = to_document(submitted)
    assert document["type"] == "GraduationRosterSubmitted"
    assert set(document) == {"type", "roster", "sha256", "operator", "by", "at", "reason", "evidence"}
    assert document["at"] == T0.isoformat()  # text as datetime.isoformat() wrote it before the events were typed
    assert document["by"] == {"operator_id": "clerk-1", "role": "school", "code": SCHOOL}
    assert document["roster"] == ROSTER.model_dump(mode="json")
    assert roster_review.from_documents([document]) == [submitted]


def test_r46_a_stream_stored_before_issue_17_with_snake_case_types_still_replays() -> None:
    """Documents exactly as the untyped roster code wrote them (type names graduation_roster_*)."""
    roster = ROSTER.model_dump(mode="json")
    actor = {"operator_id": "county-1", "role": "county", "code": "350602"}
    old = [
        {"type": "graduation_roster_submitted", "roster": roster, "sha256": ROSTER.digest(),
         "operator": CLERK.model_dump(mode="json"), "by": {"operator_id": "clerk-1", "role": "school", "code": SCHOOL},
         "at": "2027-06-20T09:00:00.123456+00:00", "reason": "graduation roster submitted", "evidence": []},
        {"type": "graduation_roster_returned", "by": actor, "operator": COUNTY.model_dump(mode="json"),
         "at": "2027-06-21T09:00:00+00:00", "reason": "misspelt", "sha256": ROSTER.digest()},
        {"type": "graduation_roster_submitted", "roster": roster, "sha256": ROSTER.digest(),
         "operator": CLERK.model_dump(mode="json"), "by": {"operator_id": "clerk-1", "role": "school", "code": SCHOOL},
         "at": "2027-06-22T09:00:00+00:00", "reason": "again", "evidence": []},
        {"type": "graduation_roster_approved", "by": actor, "operator": COUNTY.model_dump(mode="json"),
         "at": "2027-06-23T09:00:00+00:00", "reason": "checked", "sha256": ROSTER.digest()},
        {"type": "graduation_roster_outcome", "graduated": 1, "not_graduated": [], "at": "2027-06-23T09:00:05+00:00"},
    ]  # fmt: skip
    events = roster_review.from_documents(old)
    assert [type(e) for e in events] == [
        roster_review.GraduationRosterSubmitted,
        roster_review.GraduationRosterReturned,
        roster_review.GraduationRosterSubmitted,
        roster_review.GraduationRosterApproved,
        roster_review.GraduationOutcomeRecorded,
    ]
    state = roster_review.replay(events)
    assert (state.status, state.submissions, state.graduated) == (roster_review.RosterStatus.APPROVED, 2, 1)
    assert state.submission is not None and state.submission.roster == ROSTER
    # Read back, an old event is stored again under its new name, the rest of it as it was.
    again = to_document(events[0])
    assert again["type"] == "GraduationRosterSubmitted"
    assert {k: v for k, v in again.items() if k != "type"} == {k: v for k, v in old[0].items() if k != "type"}

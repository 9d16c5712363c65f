"""Whether a compliance deadline is still unmet, read from the events of the stream it is about (R02, R44, R45, R46,
R54): a student's record, a school's annual rosters or a graduation roster. Compliance follows those streams' events
instead of calling back into the modules that write them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from xueji_registry.domain import annual_roster_stream, graduation_review
from xueji_registry.domain.apply import replay
from xueji_registry.domain.compliance import Deadline, DeadlineKind, still_due
from xueji_registry.domain.events import from_documents


def still_due_after(deadline: Deadline, subject: Iterable[Mapping[str, Any]]) -> bool:
    """At the deadline, given every stored event of `deadline.subject_id`: is the duty still not done?"""
    if deadline.kind is DeadlineKind.ANNUAL_ROSTER:
        return annual_roster_stream.replay(annual_roster_stream.from_documents(subject)).submission is None
    if deadline.kind is DeadlineKind.GRADUATION_ROSTER:
        # Each submission of a roster is its own review deadline; a later one makes an earlier one moot.
        roster = graduation_review.replay(graduation_review.from_documents(subject))
        awaiting = roster.status is graduation_review.RosterStatus.SUBMITTED
        return awaiting and str(roster.submissions) == deadline.occurrence
    return still_due(deadline.kind, replay(from_documents([dict(e) for e in subject])))

"""R52: which recorded events are public changes, and the per-student sequence derived from the stream alone."""

from __future__ import annotations

from datetime import date

from province_rules import handle
from registry_driver import SCHOOL_CLERK, T0, enrollment, evidence

from xueji_registry.domain import BasicInfoPatch, EvidenceKind, RequestChange
from xueji_registry.domain.public_changes import public_changes, published_so_far
from xueji_registry.domain.public_feed import change_message, snapshot_message
from xueji_registry.domain.record_changes import ChangeBasicInfo
from xueji_registry.domain.status_changes import GoAbroad, ReturnFromAbroad

BASIC = (EvidenceKind.GUARDIAN_REQUEST, EvidenceKind.HOUSEHOLD_REGISTER)


def _ask(details, *kinds):
    return RequestChange(operator=SCHOOL_CLERK, reason="申请", evidence=tuple(evidence(k) for k in kinds),
                         details=details)  # fmt: skip


def test_r52_sequence_counts_only_public_changes_of_the_stream() -> None:
    state, history = enrollment()
    assert published_so_far(history) == 1
    # A basic-information request is recorded but is not a public change: no number is used up.
    state, asked = handle(_ask(ChangeBasicInfo(patch=BasicInfoPatch(home_address="福州")), *BASIC), state, T0)
    history += asked
    assert public_changes(None, [], 0) == [] and published_so_far(history) == 1
    before = state
    state, abroad = handle(_ask(GoAbroad(), EvidenceKind.ABROAD_APPLICATION, EvidenceKind.PASSPORT), state, T0)
    [change] = public_changes(before, abroad, published_so_far(history))
    assert (change.kind, change.sequence, change.before, change.after) == ("abroad", 2, before, state)
    history += abroad
    state, back = handle(_ask(ReturnFromAbroad()), state, T0)
    [returned] = public_changes(change.after, back, published_so_far(history))
    message, snapshot = change_message(returned), snapshot_message(returned)
    assert (message.sequence, message.change, message.before.state) == (3, "returned_from_abroad", "abroad")
    assert message.effective_on == date(2026, 9, 1) and message.recorded_at == T0
    assert (snapshot.sequence, snapshot.last_change, snapshot.state) == (3, "returned_from_abroad", "enrolled")
    assert "林" not in message.model_dump_json() + snapshot.model_dump_json()

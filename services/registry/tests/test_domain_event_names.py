"""R12: event type names are wire names. A status record's events are stored under them and shown under them as
`type` in the history answer (GET /v1/students/{id}/history), so they stay as they are (snake_case; the decision is
in docs/architecture.md, "Event type names"). The registry's other streams were typed later, in PascalCase, and
read the names they had before through `StreamEvents` (pure domain)."""

from __future__ import annotations

import re
import typing

from xueji_registry.domain import annual_roster_stream, deadline_flags, enrollment_request, formal_number_batch
from xueji_registry.domain import graduation_review as roster_review
from xueji_registry.domain.events import RegistryEvent

STATUS_RECORD_NAMES = {
    "absence_ended", "absence_recorded", "arrival_reconciled", "basic_info_changed", "certificate_reissued",
    "change_approved", "change_rejected", "change_requested", "completed", "creation_confirmed", "deceased",
    "dropped_out", "exception_recorded", "file_handed_over", "freshman_registered", "graduated", "key_info_changed", "left",
    "national_checks_recorded", "progression_rolled_back", "record_closed", "resumed", "resumed_after_dropout",
    "returned_from_abroad", "status_file_completed", "status_number_changed", "status_recorded",
    "supplementary_number_assigned", "suspended", "suspension_extended", "transferred_in", "transferred_out",
    "went_abroad",
}  # fmt: skip


def _names(union: typing.Any) -> set[str]:
    members = typing.get_args(typing.get_args(union)[0])
    return {member.model_fields["type"].default for member in members}


def test_r12_the_status_record_s_event_names_are_the_ones_stored_and_shown_in_the_history() -> None:
    """Renaming one would leave stored streams unreadable and change the history answer; a new event adds a name."""
    assert _names(RegistryEvent) >= STATUS_RECORD_NAMES
    assert all(re.fullmatch(r"[a-z]+(_[a-z]+)*", name) for name in _names(RegistryEvent))


def test_r12_the_other_streams_name_their_events_in_pascal_case_and_still_read_their_old_names() -> None:
    streams = {
        annual_roster_stream: annual_roster_stream.RosterEvent,
        roster_review: roster_review.RosterEvent,
        formal_number_batch: formal_number_batch.BatchEvent,
        deadline_flags: deadline_flags.FlagEvent,
        enrollment_request: enrollment_request.RequestEvent,
    }
    for module, union in streams.items():
        names = _names(union)
        assert all(re.fullmatch(r"([A-Z][a-z]+)+", name) for name in names), names
        assert set(getattr(module, "OLD_NAMES", {}).values()) <= names, module.__name__

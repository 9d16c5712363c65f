"""What one transfer event changes on the dashboard and who hears of it: one pure decision per message."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from xueji_contracts.envelope import Envelope, derive_id
from xueji_contracts.messages import transfer as t
from xueji_notify.domain import stages, transfer_notes
from xueji_notify.domain.cases import OFFLINE, case_fields
from xueji_notify.domain.names import NO_NAMES, SchoolNames
from xueji_notify.domain.notification import Notification

StageMessage = t.StageOpened | t.StageDeadlineChanged | t.StageClosed
SlaMessage = t.StageWarning | t.StageBreached
_KIND = {
    t.StageOpened: "opened",
    t.StageDeadlineChanged: "deadline_changed",
    t.StageClosed: "closed",
    t.StageWarning: "warned",
    t.StageBreached: "breached",
}


@dataclass(frozen=True)
class Change:
    """Fields to set on one projection document, the history entry, the nodes to recount, the notifications."""

    key: str
    fields: dict[str, Any]
    history: dict[str, Any] | None
    dirty: list[str]
    notes: list[Notification]
    insert_open: bool = False


def _check_type(message: Envelope[Any]) -> None:
    if message.type != type(message.payload).__name__:
        raise ValueError(f"type: envelope says {message.type} but the payload is a {type(message.payload).__name__}")


def _history(message: Envelope[Any], key: str, node: str, kind: str, notes: list[Notification]) -> dict[str, Any]:
    first = notes[0] if notes else None
    return {
        "_id": str(derive_id(message.message_id, "notify", "history")),
        "stage_key": key,
        "node": node,
        "kind": kind,
        "at": message.occurred_at,
        "title_zh": first.title_zh if first else kind,
        "title_en": first.title_en if first else kind,
        "correlation_id": str(message.correlation_id),
    }


def stage_message(
    message: Envelope[StageMessage], known: Mapping[str, Any] | None, names: SchoolNames = NO_NAMES
) -> Change:
    _check_type(message)
    p = message.payload
    notes: list[Notification]
    if isinstance(p, t.StageOpened):
        fields, notes = stages.opened(p), transfer_notes.stage_opened(message, names)  # type: ignore[arg-type]
    elif isinstance(p, t.StageDeadlineChanged):
        fields, notes = stages.deadline_changed(p), transfer_notes.stage_deadline_changed(message)  # type: ignore[arg-type]
    else:
        receiving = (known or {}).get("receiving_school")
        fields, notes = stages.closed(p), transfer_notes.stage_decided(message, receiving)  # type: ignore[arg-type]
    key = stages.stage_key(p.transfer_id, p.stage.value)
    history = _history(message, key, fields["node"], _KIND[type(p)], notes)
    return Change(key, fields, history, [fields["node"]], notes)


def sla_message(message: Envelope[SlaMessage], names: SchoolNames = NO_NAMES) -> Change:
    _check_type(message)
    p = message.payload
    key = stages.stage_key(p.transfer_id, p.stage.value)
    if isinstance(p, t.StageWarning):
        fields, notes = stages.warned(p, message.occurred_at), transfer_notes.stage_warning(message)  # type: ignore[arg-type]
        dirty = [fields["node"]]
    else:
        fields, notes = stages.breached(p, message.occurred_at), transfer_notes.stage_breached(message, names)  # type: ignore[arg-type]
        dirty = [fields["node"], fields["escalated_to_node"]]
    history = _history(message, key, fields["node"], _KIND[type(p)], notes)
    return Change(key, fields, history, dirty, notes, insert_open=True)


def case_message(message: Envelope[t.TransferCaseChanged]) -> Change:
    """Only the offline path (R23) is projected; every outcome may still notify someone."""
    _check_type(message)
    p = message.payload
    notes = transfer_notes.case_changed(message)
    if p.outcome not in (*OFFLINE, t.CaseOutcome.RECONCILED):
        return Change(p.transfer_id, {}, None, [], notes)
    fields = case_fields(p)
    return Change(p.transfer_id, fields, None, [fields["node"]], notes)

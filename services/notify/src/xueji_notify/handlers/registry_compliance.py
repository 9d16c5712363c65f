"""Registry compliance deadlines -> tasks for the school or bureau that must act (R02, R32, R44, R45, R54)."""

from __future__ import annotations

from faststream import Context

from xueji_contracts.envelope import Envelope
from xueji_contracts.messages.registry import ComplianceDeadlineChanged
from xueji_notify.domain.jurisdiction import ancestors
from xueji_notify.domain.registry_notes import compliance_changed
from xueji_notify.service import NotifyService


async def on_compliance_deadline(
    message: Envelope[ComplianceDeadlineChanged],
    notify: NotifyService = Context("notify"),
) -> None:
    p = message.payload
    still_open = await notify.set_deadline(
        p.deadline_id,
        {"kind": p.kind.value, "rule": p.rule, "state": p.state.value, "jurisdiction": p.jurisdiction,
         "subject_id": p.subject_id, "due_at": p.due_at, "flagged_to": p.flagged_to,
         "scopes": ancestors(p.jurisdiction), "at": message.occurred_at},
    )  # fmt: skip
    if still_open:  # else a breach of a deadline met meanwhile: no one is told (the row first, so a redelivery files)
        await notify.file(compliance_changed(message))

"""dedupe.review.v1 -> review tasks for the county, outcomes for the school; other message types on the
topic (requests between registry and dedupe) are not notify's business and are passed over."""

from __future__ import annotations

from typing import Any

import structlog
from faststream import Context

from xueji_contracts.envelope import Envelope
from xueji_contracts.messages.dedupe_review import ReviewCaseDeadline, ReviewCaseDecided, ReviewCaseOpened
from xueji_notify.domain.dedupe_notes import NOTES
from xueji_notify.domain.jurisdiction import ancestors
from xueji_notify.service import NotifyService

log = structlog.get_logger("notify.dedupe_review")


async def on_dedupe_review(
    message: dict[str, Any],
    notify: NotifyService = Context("notify"),
) -> None:
    kind = message.get("type")
    if kind not in NOTES:
        log.debug("dedupe_review_message_passed_over", type=kind)
        return
    model, notes = NOTES[kind]
    envelope: Envelope[Any] = Envelope[model].model_validate(message)  # type: ignore[valid-type]
    row = deadline_row(envelope.payload)
    # The review deadline on the dashboard, beside the registry's (R14 within R22); a warning or breach of a review
    # decided meanwhile changes nothing and tells no one.
    if row is not None and not await notify.set_deadline(envelope.payload.case_id, row | {"at": envelope.occurred_at}):
        return
    await notify.file(notes(envelope))


def deadline_row(p: ReviewCaseOpened | ReviewCaseDeadline | ReviewCaseDecided) -> dict[str, Any] | None:
    """The dashboard's deadline row of a review case: opened with its due time, then due soon, overdue or met."""
    common = {"kind": "dedupe_review", "rule": "R14", "jurisdiction": p.county_code, "subject_id": p.student_id,
              "scopes": ancestors(p.county_code)}  # fmt: skip
    if isinstance(p, ReviewCaseOpened):
        return None if p.due_at is None else common | {"state": "opened", "due_at": p.due_at, "flagged_to": None}
    if isinstance(p, ReviewCaseDeadline):
        return common | {"state": p.state.value, "due_at": p.due_at, "flagged_to": p.escalated_to}
    return common | {"state": "met"}

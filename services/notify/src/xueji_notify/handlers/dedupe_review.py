"""dedupe.review.v1 -> review tasks for the county, outcomes for the school; other message types on the
topic (requests between registry and dedupe) are not notify's business and are passed over."""

from __future__ import annotations

from typing import Any

import structlog
from faststream import Context

from xueji_contracts.envelope import Envelope
from xueji_notify.domain.dedupe_notes import NOTES
from xueji_notify.notifier import Notifier

log = structlog.get_logger("notify.dedupe_review")


async def on_dedupe_review(message: dict[str, Any], notifier: Notifier = Context("notifier")) -> None:
    kind = message.get("type")
    if kind not in NOTES:
        log.debug("dedupe_review_message_passed_over", type=kind)
        return
    model, notes = NOTES[kind]
    envelope: Envelope[Any] = Envelope[model].model_validate(message)  # type: ignore[valid-type]
    await notifier.send(notes(envelope))

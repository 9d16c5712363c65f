"""rules.exception.v1 -> the county hears of every exception and the dashboard lists it (R08, R27, R40)."""

from __future__ import annotations

from faststream import Context

from xueji_contracts.envelope import Envelope
from xueji_contracts.messages.exceptions import RuleExceptionRecorded
from xueji_notify.domain.exception_notes import exception_recorded
from xueji_notify.domain.jurisdiction import ancestors, node_of
from xueji_notify.service import NotifyService


async def on_rule_exception(
    message: Envelope[RuleExceptionRecorded],
    notify: NotifyService = Context("notify"),
) -> None:
    await notify.file(exception_recorded(message))
    p = message.payload
    scopes = sorted({*ancestors(node_of(p.jurisdiction)), *(ancestors(p.school_code) if p.school_code else [])})
    fields = p.model_dump(mode="json", exclude={"occurred_at", "exception_id"})
    await notify.record_exception(p.exception_id, {**fields, "occurred_at": p.occurred_at, "scopes": scopes})

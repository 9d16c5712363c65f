"""transfer.sla.v1 -> warnings and breaches on the dashboard; the late party and the level above are told (R22)."""

from __future__ import annotations

from faststream import Context

from xueji_contracts.envelope import Envelope
from xueji_notify.domain import projection
from xueji_notify.service import NotifyService


async def on_transfer_sla(
    message: Envelope[projection.SlaMessage],
    notify: NotifyService = Context("notify"),
) -> None:
    await notify.project(projection.sla_message(message, notify.schools))

"""transfer.case.v1 -> offline acceptance and reconciliation on the dashboard (R23); outcomes to the schools."""

from __future__ import annotations

from faststream import Context

from xueji_contracts.envelope import Envelope
from xueji_contracts.messages.transfer import TransferCaseChanged
from xueji_notify.domain import projection
from xueji_notify.service import NotifyService


async def on_transfer_case(
    message: Envelope[TransferCaseChanged],
    notify: NotifyService = Context("notify"),
) -> None:
    await notify.project(projection.case_message(message), case=True)

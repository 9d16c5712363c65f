"""transfer.case.v1 -> offline acceptance and reconciliation on the dashboard (R23); outcomes to the schools."""

from __future__ import annotations

from faststream import Context

from xueji_contracts.envelope import Envelope
from xueji_contracts.messages.transfer import TransferCaseChanged
from xueji_notify.domain import projection
from xueji_notify.handlers.projection import apply
from xueji_notify.notifier import Notifier
from xueji_notify.store import DashboardStore


async def on_transfer_case(
    message: Envelope[TransferCaseChanged],
    notifier: Notifier = Context("notifier"),
    dashboard: DashboardStore = Context("dashboard"),
) -> None:
    await apply(projection.case_message(message), dashboard, notifier, case=True)

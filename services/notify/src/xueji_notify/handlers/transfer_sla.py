"""transfer.sla.v1 -> warnings and breaches on the dashboard; the late party and the level above are told (R22)."""

from __future__ import annotations

from faststream import Context

from xueji_contracts.envelope import Envelope
from xueji_notify.domain import projection
from xueji_notify.domain.names import SchoolNames
from xueji_notify.handlers.projection import apply
from xueji_notify.notifier import Notifier
from xueji_notify.store import DashboardStore


async def on_transfer_sla(
    message: Envelope[projection.SlaMessage],
    notifier: Notifier = Context("notifier"),
    dashboard: DashboardStore = Context("dashboard"),
    schools: SchoolNames = Context("schools"),
) -> None:
    await apply(projection.sla_message(message, schools), dashboard, notifier)

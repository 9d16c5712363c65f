"""Registry compliance deadlines -> tasks for the school or bureau that must act (R02, R32, R44, R45, R54)."""

from __future__ import annotations

from faststream import Context

from xueji_contracts.envelope import Envelope
from xueji_contracts.messages.registry import ComplianceDeadlineChanged
from xueji_notify.domain.registry_notes import compliance_changed
from xueji_notify.notifier import Notifier


async def on_compliance_deadline(
    message: Envelope[ComplianceDeadlineChanged], notifier: Notifier = Context("notifier")
) -> None:
    await notifier.send(compliance_changed(message))

"""rules.exception.v1 -> every producer's exceptions kept for the semester audit (R51; R08, R27, R40)."""

from __future__ import annotations

from faststream import Context

from xueji_contracts.envelope import Envelope
from xueji_contracts.messages.exceptions import RuleExceptionRecorded
from xueji_registry.rule_exceptions import keep
from xueji_registry.service import RegistryService


async def on_rule_exception(
    message: Envelope[RuleExceptionRecorded], service: RegistryService = Context("registry")
) -> None:
    await keep(service.runtime.db, message.payload)

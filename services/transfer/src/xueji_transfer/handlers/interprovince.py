"""interprovince.transfer.v1 -> decisions on cases owned here, stages mirrored for parties here (R34)."""

# Anything else (our own messages read back, other provinces' business) passes by.

from __future__ import annotations

import structlog
from faststream import Context

from xueji_contracts.auth import province_of
from xueji_contracts.envelope import Envelope
from xueji_contracts.messages import transfer as c
from xueji_transfer.mirror import Mirror, RemoteMessage
from xueji_transfer.service import TransferService

InterprovinceMessage = RemoteMessage | c.TransferCaseChanged | c.DecisionSubmitted
log = structlog.get_logger("transfer.interprovince")


async def on_interprovince(
    message: Envelope[InterprovinceMessage],
    service: TransferService = Context("transfer"),
    mirror: Mirror = Context("mirror"),
) -> None:
    p = message.payload
    if message.province == service.province:
        return  # our own message, read back from our own topic or a mirror
    if isinstance(p, c.DecisionSubmitted):
        if province_of(p.operator_code) != message.province:
            # Another province decides only through its own parties (R34, R50): an operator it names in this
            # province (a bureau here, say) is not one of them, whatever stage the message asks about.
            log.warning("interprovince_decision_outside_its_province", transfer_id=p.transfer_id,
                        province=message.province, operator_code=p.operator_code)  # fmt: skip
            return
        if await service.load(p.transfer_id) is not None:
            await service.decide_submitted(message)  # type: ignore[arg-type]  # narrowed to DecisionSubmitted above
    elif mirror.addressed_here(p):
        await mirror.record(message)

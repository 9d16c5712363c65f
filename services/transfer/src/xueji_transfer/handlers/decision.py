"""transfer.decision.v1 -> a stage decided by another system, exactly as one decided over HTTP (R21, R50)."""

# A refused or malformed decision is dead-lettered with the rule and reason; a redelivered one changes nothing.

from __future__ import annotations

from faststream import Context

from xueji_contracts.envelope import Envelope, derive_id
from xueji_contracts.messages.transfer import DecisionSubmitted
from xueji_transfer.decisions import to_command
from xueji_transfer.service import TransferService


async def on_decision(message: Envelope[DecisionSubmitted], service: TransferService = Context("transfer")) -> None:
    decision = message.payload
    commit_id = str(derive_id(message.message_id, "decision"))
    await service.execute(decision.transfer_id, to_command(decision), commit_id, correlation_id=message.correlation_id)

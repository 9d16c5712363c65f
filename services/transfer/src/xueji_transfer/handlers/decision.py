"""transfer.decision.v1 -> a stage decided by another system, exactly as one decided over HTTP (R21, R50).

Each message carries its operator's token (`authorization: Bearer <token>` Kafka header), verified as an HTTP
request's is, and the decision must name that operator: Kafka ACLs say which systems may write the topic, the
token says which person decided, and the jurisdiction check (R50) needs a claim nobody could have typed in.
"""

# A refused, unsigned or malformed decision is dead-lettered with the rule and reason; a redelivered one changes
# nothing.

from __future__ import annotations

from typing import Any

from faststream import Context

from xueji_contracts.envelope import Envelope
from xueji_contracts.messages.transfer import DecisionSubmitted
from xueji_kit.security import message_operator
from xueji_transfer.service import TransferService


async def on_decision(
    message: Envelope[DecisionSubmitted],
    service: TransferService = Context("transfer"),
    raw: Any = Context("message"),
) -> None:
    decision = message.payload
    signer = message_operator(service.runtime.tokens, raw.headers)
    if (signer.sub, signer.code) != (decision.operator, decision.operator_code):
        raise ValueError(
            f"authorization: the token is {signer.sub} of {signer.code}; "
            f"the decision names {decision.operator} of {decision.operator_code}"
        )
    await service.decide_submitted(message)

"""Another province decides a stage of a case owned here only through its own parties (R34, R50): a decision on the
cross-province topic naming an operator of this province is dropped, whatever stage it asks about (the local decision
topic checks the signer's token; this one named the operator by code only)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from xueji_contracts.envelope import envelop
from xueji_contracts.messages import transfer as c
from xueji_transfer.handlers.interprovince import on_interprovince


class Transfer:
    province = "35"

    def __init__(self) -> None:
        self.decided: list[Any] = []

    async def load(self, transfer_id: str) -> object:
        return object()  # the case is owned here

    async def decide_submitted(self, message: Any) -> None:
        self.decided.append(message)


def _decision(operator_code: str, stage: c.Stage) -> Any:
    payload = c.DecisionSubmitted(
        transfer_id="t-1", stage=stage, decision=c.Decision.APPROVE, operator="bureau-x", operator_code=operator_code
    )
    return envelop(payload, producer="transfer", province="43", occurred_at=datetime.now(UTC))


async def test_a_decision_from_another_province_naming_an_operator_here_is_dropped():
    transfer = Transfer()
    await on_interprovince(_decision("350602", c.Stage.RECEIVING_BUREAU), transfer, mirror=None)  # type: ignore[arg-type]
    assert transfer.decided == []


async def test_a_decision_from_another_province_by_its_own_party_is_decided():
    transfer = Transfer()
    await on_interprovince(_decision("430102", c.Stage.SENDING_BUREAU), transfer, mirror=None)  # type: ignore[arg-type]
    assert len(transfer.decided) == 1

"""A stage decision as it travels (DecisionSubmitted) and as the domain decides it (DecideStage), both ways."""

from __future__ import annotations

from datetime import datetime

from xueji_contracts.auth import OperatorClaims, Role
from xueji_contracts.messages.transfer import Decision, DecisionSubmitted
from xueji_transfer.domain import DecideStage, EvidenceKind, RejectionReason
from xueji_transfer.domain.jurisdiction import level_of


def to_command(submitted: DecisionSubmitted, sent_at: datetime | None = None) -> DecideStage:
    """The deciding operator is named by id and jurisdiction code; the code's length says its level.
    A rejection without a reason code counts as `other`. `sent_at`: when the sender says it decided (the message's
    occurred_at), which the domain bounds (decision_time). Raises ValueError on anything malformed."""
    operator = OperatorClaims(
        sub=submitted.operator, role=Role(level_of(submitted.operator_code).value), code=submitted.operator_code
    )
    reason_code = RejectionReason(submitted.reason_code) if submitted.reason_code else None
    if submitted.decision is Decision.REJECT and reason_code is None:
        reason_code = RejectionReason.OTHER
    return DecideStage(
        operator=operator,
        stage=submitted.stage,
        decision=submitted.decision,
        reason=submitted.reason,
        reason_code=reason_code,
        requested=tuple(EvidenceKind(kind) for kind in submitted.requested),
        sent_at=sent_at,
    )


def to_message(transfer_id: str, command: DecideStage) -> DecisionSubmitted:
    return DecisionSubmitted(
        transfer_id=transfer_id,
        stage=command.stage,
        decision=command.decision,
        reason=command.reason,
        operator=command.operator.sub,
        operator_code=command.operator.code,
        reason_code=command.reason_code.value if command.reason_code else None,
        requested=tuple(kind.value for kind in command.requested),
    )

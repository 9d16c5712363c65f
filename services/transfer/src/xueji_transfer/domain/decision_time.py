"""When a decision sent by another system counts as made (R22): the sender's time, within bounds we can check."""

# A decision from another province (interprovince.transfer.v1) or another system (transfer.decision.v1) is made on
# the sender's clock and reaches us later: the relay, MirrorMaker or the national hub and our consumer all add delay.
# Stamping it with its arrival makes a decision made at 23:59 on the last working day late when it lands after
# midnight. So it counts at the envelope's `occurred_at`, but a sender's clock is not trusted blindly:
#   - never later than it arrived (a clock running fast cannot push it forward);
#   - never earlier than the stage opened (the previous decision), so a case's history keeps its order;
#   - never more than TRANSIT before it arrived. Ordinary delivery takes seconds, a restart or a rebalance minutes;
#     information that takes longer was held up by a system or transmission failure, which R23 handles by what has
#     *arrived* (the offline path opens when the sending side's verification has not arrived within 20 working
#     days), not by believing a backdated stamp. A sender can backdate by at most this much.

from __future__ import annotations

from datetime import datetime, timedelta

from xueji_contracts.auth import province_of
from xueji_contracts.calendar import require_aware
from xueji_transfer.domain.state import StageState, TransferCase

TRANSIT = timedelta(hours=1)
ON_TIME = timedelta(0)


def decided_at(sent_at: datetime, arrived_at: datetime, stage_opened_at: datetime) -> datetime:
    """The time a decision sent at `sent_at` (the sender's clock) and received at `arrived_at` counts as made."""
    require_aware(sent_at, "sent_at")
    trusted = min(arrived_at, max(sent_at, arrived_at - TRANSIT))
    return max(trusted, stage_opened_at)


def breach_grace(case: TransferCase, stage: StageState) -> timedelta:
    """How long after its due time a stage's breach waits: TRANSIT for a party in another province (its decision
    crosses provinces and may be under way, made in time), none for a party here (R22, R34)."""
    remote = province_of(stage.jurisdiction) != province_of(case.application.receiving.code)
    return TRANSIT if remote else ON_TIME

"""Which grounds a verifying party may reject on (R20, R34): checked where the case is decided and where a
party in another province decides a mirrored stage."""

from __future__ import annotations

from xueji_contracts.messages.transfer import Stage
from xueji_transfer.domain.case_events import RejectionReason
from xueji_transfer.domain.errors import Refused

SENDING_STAGES = frozenset({Stage.SENDING_SCHOOL, Stage.SENDING_BUREAU})
# 003 Q12: the sending (or graduating) province may not refuse because the receiving province's admission may be
# irregular or the scores miss the receiving province's requirements. Those are the receiving side's own matters.
R34_FORBIDDEN = frozenset(
    {
        RejectionReason.RECEIVING_ADMISSION_RULES,
        RejectionReason.SCORE_BELOW_RECEIVING_REQUIREMENT,
        RejectionReason.RECEIVING_ADMISSION_IRREGULAR,
    }
)
# What the sending side verifies is its own record: the status and the basic-information sheet it printed. Any other
# code (`other` with a free text above all) would let the forbidden grounds back in under another name.
SENDING_GROUNDS = frozenset({RejectionReason.STATUS_INELIGIBLE, RejectionReason.MATERIALS_INVALID})


def check_grounds(stage: Stage, code: RejectionReason, *, interprovincial: bool) -> None:
    """Refuse a rejection on grounds its party may not give; the receiving side's examination is not limited."""
    if code is RejectionReason.NO_STATUS_YET:
        raise Refused("R20", "having no status (or no transferred status) never blocks admission", field="reason_code")
    if not interprovincial or stage not in SENDING_STAGES:
        return
    if code in R34_FORBIDDEN:
        raise Refused(
            "R34",
            "once the receiving school and bureau have agreed, the sending province's parties must verify; they may "
            "not refuse because the receiving province's admission may be irregular or the student's scores miss "
            "its requirements",
            field="reason_code",
        )
    if code not in SENDING_GROUNDS:
        allowed = ", ".join(sorted(g.value for g in SENDING_GROUNDS))
        raise Refused(
            "R34",
            f"in an inter-provincial case the sending side verifies its own record and may reject only as {allowed}",
            field="reason_code",
        )

"""The dashboard's case projection: offline acceptance opened, accepted and reconciled (R23)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from xueji_contracts.messages.transfer import CaseOutcome, TransferCaseChanged
from xueji_notify.domain.jurisdiction import ancestors, node_of

OFFLINE = (CaseOutcome.OFFLINE_OPENED, CaseOutcome.OFFLINE_ACCEPTED)


def case_fields(p: TransferCaseChanged) -> dict[str, Any]:
    """Offline cases belong to the receiving school: it accepts the student on the paper form."""
    node = node_of(p.receiving_school)
    number = {"case_number": p.case_number} if p.case_number else {}
    return number | {
        "transfer_id": p.transfer_id,
        "node": node,
        "scopes": ancestors(node),
        "student_id": p.student_id,
        "receiving_school": p.receiving_school,
        "sending_school": p.sending_school,
        f"{p.outcome.value}_at": p.at,
    }


def is_offline_pending(case: Mapping[str, Any]) -> bool:
    """Opened or accepted offline and not yet reconciled: stays on the dashboard until it is."""
    offline = case.get("offline_opened_at") or case.get("offline_accepted_at")
    return bool(offline) and not case.get("reconciled_at")

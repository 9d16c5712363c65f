"""Exceptions to "generally" rules (R08, R27, R40) -> the county (and the school concerned) hear of each one."""

from __future__ import annotations

from xueji_contracts.division import Division, DivisionLevel
from xueji_contracts.envelope import Envelope
from xueji_contracts.messages.exceptions import RuleExceptionRecorded
from xueji_notify.domain.notification import Kind, Notification, Severity, about

RULE_NAMES = {
    "R08": ("毕业证书再次补发", "a further certificate reissue"),
    "R27": ("转学时间例外", "a transfer outside the usual time"),
    "R40": ("休学例外", "a suspension exception"),
}


def exception_recorded(message: Envelope[RuleExceptionRecorded]) -> list[Notification]:
    """One notification for the county the authority sits in and, when one is named, the school."""
    p = message.payload
    zh, en = RULE_NAMES.get(p.rule, (f"{p.rule} 例外", f"an exception to {p.rule}"))
    title = (f"已记录例外：{zh}（{p.rule}，{p.clause}）", f"Exception recorded: {en} ({p.rule}, {p.clause})")
    details = {
        "exception_id": p.exception_id,
        "rule": p.rule,
        "clause": p.clause,
        "authority": p.authority.value,
        "jurisdiction": p.jurisdiction,
        "operator": p.operator,
        "reason": p.reason,
        "evidence": list(p.evidence),
        "occurred_at": p.occurred_at.isoformat(),
        "subject_kind": p.subject_kind,
    }
    where = Division.parse(p.jurisdiction)  # a school's exception is also its county bureau's
    bureau = where.county if where.level is DivisionLevel.SCHOOL else where
    to = [bureau.code] + ([p.school_code] if p.school_code else [])
    return [
        about(message, Kind.RULE_EXCEPTION, Severity.INFO, code, title, p.subject_id, details=details)
        for code in dict.fromkeys(to)
    ]

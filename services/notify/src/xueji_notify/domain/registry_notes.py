"""Registry events -> notifications: compliance deadlines (R02, R32, R44, R45, R46, R54)."""

from __future__ import annotations

from xueji_contracts.envelope import Envelope
from xueji_contracts.messages.registry import ComplianceDeadlineChanged, ComplianceKind, ComplianceState
from xueji_notify.domain.calendar import due_day
from xueji_notify.domain.notification import Kind, Notification, Severity, about

COMPLIANCE_NAMES: dict[ComplianceKind, tuple[str, str]] = {
    ComplianceKind.STATUS_FILE: ("入学后1个月内建立学籍档案", "status file within 1 month of admission"),
    ComplianceKind.PAPER_FILE: ("转学完成后1个月内寄送纸质档案", "paper file within 1 month after the transfer"),
    ComplianceKind.DEATH_CANCELLATION: ("死亡学生1个月内注销学籍", "status cancelled within 1 month of a death"),
    ComplianceKind.ANNUAL_ROSTER: ("学年初1个月内报送新生名册与增减名册", "annual rosters within 1 month of term"),
    ComplianceKind.ABSENCE_REPORT: ("无故缺课两周书面报告", "written report of 2 weeks' unexcused absence"),
    ComplianceKind.GRADUATION_ROSTER: ("审核学校报送的毕业生名册", "review the school's graduation roster"),
    ComplianceKind.FILE_HANDOVER: (
        "学期末将流动儿童学籍档案移交户籍所在地县级教育行政部门",
        "hand the migrant child's file to the household-register county at semester end",
    ),
}
_STATE: dict[ComplianceState, tuple[Severity, str, str]] = {
    ComplianceState.OPENED: (Severity.ACTION, "待办", "To do"),
    ComplianceState.DUE_SOON: (Severity.WARNING, "即将到期", "Due soon"),
    ComplianceState.OVERDUE: (Severity.URGENT, "已逾期", "Overdue"),
    ComplianceState.MET: (Severity.INFO, "已完成", "Done"),
}


def compliance_changed(message: Envelope[ComplianceDeadlineChanged]) -> list[Notification]:
    """The school (or bureau) that must act hears every state; an overdue one is also flagged upward."""
    p = message.payload
    zh, en = COMPLIANCE_NAMES[p.kind]
    severity, szh, sen = _STATE[p.state]
    due = due_day(p.due_at).isoformat()
    if p.receiving_county:  # R45: which county bureau receives the file
        zh, en = f"{zh}（{p.receiving_county}）", f"{en} ({p.receiving_county})"
    title = (f"{szh}：{zh}（{p.rule}，{due}）", f"{sen}: {en} ({p.rule}, due {due})")
    details = {"deadline_id": p.deadline_id, "kind": p.kind.value, "state": p.state.value, "rule": p.rule}
    if p.receiving_county:
        details["receiving_county"] = p.receiving_county
    to = [p.jurisdiction] + ([p.flagged_to] if p.flagged_to and p.state is ComplianceState.OVERDUE else [])
    return [
        about(message, Kind.COMPLIANCE, severity, code, title, p.subject_id, due_at=p.due_at, details=details)
        for code in to
    ]

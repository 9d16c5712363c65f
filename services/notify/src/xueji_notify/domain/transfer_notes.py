"""Transfer events -> notifications for whoever has to act or know (R21-R23)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from xueji_contracts.envelope import Envelope
from xueji_contracts.messages.transfer import (
    CaseOutcome,
    Decision,
    Stage,
    StageBreached,
    StageClosed,
    StageDeadlineChanged,
    StageOpened,
    StageWarning,
    TransferCaseChanged,
)
from xueji_notify.domain.calendar import due_day
from xueji_notify.domain.names import NO_NAMES, SchoolNames, named
from xueji_notify.domain.notification import Kind, Notification, Severity, about

STAGE_NAMES: dict[Stage, tuple[str, str]] = {
    Stage.RECEIVING_SCHOOL: ("转入学校审核", "receiving school verification"),
    Stage.RECEIVING_BUREAU: ("转入地县级教育行政部门审核", "receiving county bureau verification"),
    Stage.SENDING_SCHOOL: ("转出学校审核", "sending school verification"),
    Stage.SENDING_BUREAU: ("转出地县级教育行政部门审核", "sending county bureau verification"),
}
DECISION_NAMES: dict[Decision, tuple[str, str]] = {
    Decision.APPROVE: ("通过", "approved"),
    Decision.REJECT: ("不通过", "rejected"),
    Decision.RETURN_FOR_MATERIALS: ("退回补充材料", "returned for more materials"),
}
LEVEL_NAMES = {"school": ("学校", "school"), "county": ("县级", "county"), "city": ("市级", "city")}
LEVEL_NAMES |= {"province": ("省级", "province"), "ministry": ("教育部", "Ministry")}


def _number(payload: Any) -> dict[str, Any]:
    """The readable case number beside the internal id, when transfer sent one."""
    return {"case_number": payload.case_number} if payload.case_number else {}


def _about_stage(
    message: Envelope[Any],
    kind: Kind,
    severity: Severity,
    title: tuple[str, str],
    details: dict[str, Any],
    *,
    to: str | None = None,
    due_at: datetime | None = None,
) -> Notification:
    """A note on one stage of a case: about the case, to the stage's party unless `to` says who, with the stage's
    details (case, stage, case number) before `details`."""
    p = message.payload
    about_stage = {"transfer_id": p.transfer_id, "stage": p.stage.value} | _number(p)
    to = to or p.jurisdiction
    return about(message, kind, severity, to, title, p.transfer_id, due_at=due_at, details=about_stage | details)


def stage_opened(message: Envelope[StageOpened], names: SchoolNames = NO_NAMES) -> list[Notification]:
    p = message.payload
    zh, en = STAGE_NAMES[p.stage]
    due = due_day(p.deadline.due_at).isoformat()
    mark = ("（临时日期）", " (provisional)") if p.deadline.provisional else ("", "")
    sending, receiving = named(p.sending_school, names), named(p.receiving_school, names)
    title = (
        f"转学待办：{zh}（第{p.step}步，{sending[0]} 转往 {receiving[0]}），{due}前完成{mark[0]}",
        f"Transfer to act on: {en} (step {p.step}, {sending[1]} to {receiving[1]}), due {due}{mark[1]}",
    )
    details = {"step": p.step, "provisional": p.deadline.provisional}
    return [_about_stage(message, Kind.STAGE_OPENED, Severity.ACTION, title, details, due_at=p.deadline.due_at)]


def stage_deadline_changed(message: Envelope[StageDeadlineChanged]) -> list[Notification]:
    p = message.payload
    zh, en = STAGE_NAMES[p.stage]
    before, after = due_day(p.previous.due_at).isoformat(), due_day(p.deadline.due_at).isoformat()
    title = (f"截止日期调整：{zh} 由 {before} 改为 {after}", f"Deadline moved: {en} from {before} to {after}")
    details = {"provisional": p.deadline.provisional, "calendar_version": p.deadline.calendar_version}
    kind = Kind.STAGE_DEADLINE_CHANGED
    return [_about_stage(message, kind, Severity.INFO, title, details, due_at=p.deadline.due_at)]


def stage_decided(message: Envelope[StageClosed], receiving_school: str | None) -> list[Notification]:
    """Told to the receiving school, which started the case; the next party hears from its own stage."""
    p = message.payload
    zh, en = STAGE_NAMES[p.stage]
    dzh, den = DECISION_NAMES[p.decision]
    title = (f"{zh}：{dzh}", f"{en[0].upper()}{en[1:]}: {den}")
    if p.reason:
        title = (f"{title[0]}（{p.reason}）", f"{title[1]} ({p.reason})")
    severity = Severity.INFO if p.decision is Decision.APPROVE else Severity.ACTION
    details = {"decision": p.decision.value, "decided_by": p.decided_by}
    return [_about_stage(message, Kind.STAGE_DECIDED, severity, title, details, to=receiving_school)]


def stage_warning(message: Envelope[StageWarning]) -> list[Notification]:
    p = message.payload
    zh, en = STAGE_NAMES[p.stage]
    due = due_day(p.due_at).isoformat()
    title = (
        f"即将到期：{zh}，还剩 {p.working_days_left} 个工作日（{due}）",
        f"Due soon: {en}, {p.working_days_left} working day(s) left ({due})",
    )
    details = {"working_days_left": p.working_days_left}
    return [_about_stage(message, Kind.STAGE_WARNING, Severity.WARNING, title, details, due_at=p.due_at)]


def stage_breached(message: Envelope[StageBreached], names: SchoolNames = NO_NAMES) -> list[Notification]:
    """The late party is told it is late; the level it escalated to is told to chase it (R22), naming the party."""
    p = message.payload
    party = named(p.jurisdiction, names)
    zh, en = STAGE_NAMES[p.stage]
    due = due_day(p.due_at).isoformat()
    lzh, len_ = LEVEL_NAMES.get(p.escalated_to_level.value, (p.escalated_to_level.value,) * 2)
    details = {"escalated_to": p.escalated_to, "escalation_count": p.escalation_count, "late_party": p.jurisdiction}
    late = (
        f"已超期：{zh}（应于 {due} 前完成），已上报{lzh}",
        f"Overdue: {en} (was due {due}), escalated to {len_} level",
    )
    chase = (
        f"超期升级：{party[0]} 的{zh}已超期（{due}），请督办",
        f"Escalated to you: {en} at {party[1]} is overdue (due {due}); please follow up",
    )
    return [
        _about_stage(message, Kind.STAGE_BREACHED, Severity.URGENT, late, details, due_at=p.due_at),
        _about_stage(
            message, Kind.STAGE_ESCALATED, Severity.URGENT, chase, details, to=p.escalated_to, due_at=p.due_at
        ),
    ]


_CASE_TEXT: dict[CaseOutcome, tuple[Kind, Severity, str, str, str]] = {
    # outcome: kind, severity, who hears ("receiving" / "sending" / "both"), zh, en
    CaseOutcome.OFFLINE_OPENED: (
        Kind.OFFLINE_OPENED,
        Severity.ACTION,
        "receiving",
        "可线下接收：请转入地教育局在纸质登记表上签署同意后接收学生",
        "Offline acceptance open: accept the student once the bureau signs the paper form",
    ),
    CaseOutcome.OFFLINE_ACCEPTED: (
        Kind.OFFLINE_ACCEPTED,
        Severity.INFO,
        "receiving",
        "已线下接收，待系统对账",
        "Accepted offline; waiting for reconciliation",
    ),
    CaseOutcome.RECONCILED: (
        Kind.RECONCILED,
        Severity.INFO,
        "receiving",
        "线下接收已对账，以系统记录为准",
        "Offline acceptance reconciled; the system record prevails",
    ),
    CaseOutcome.COMPLETED: (Kind.CASE_CHANGED, Severity.INFO, "both", "转学已完成", "Transfer completed"),
    CaseOutcome.REJECTED: (Kind.CASE_CHANGED, Severity.INFO, "receiving", "转学未通过", "Transfer rejected"),
    CaseOutcome.ROLLED_BACK: (
        Kind.CASE_CHANGED,
        Severity.ACTION,
        "sending",
        "误转学已回退至原学校",
        "Mistaken transfer rolled back to the original school",
    ),
}


def case_changed(message: Envelope[TransferCaseChanged]) -> list[Notification]:
    p = message.payload
    if p.outcome not in _CASE_TEXT:
        return []  # "opened": the first stage's own notification says it
    kind, severity, who, zh, en = _CASE_TEXT[p.outcome]
    if p.reason:
        zh, en = f"{zh}（{p.reason}）", f"{en} ({p.reason})"
    to = {"receiving": [p.receiving_school], "sending": [p.sending_school]}.get(
        who, [p.receiving_school, p.sending_school]
    )
    details = {"transfer_id": p.transfer_id, "outcome": p.outcome.value, "student_id": p.student_id} | _number(p)
    return [about(message, kind, severity, code, (zh, en), p.transfer_id, details=details) for code in to]

"""Dedupe review cases -> a task for the county bureau, its deadline warning and escalation (R22), and the outcome
for the school (R01, R14)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from pydantic import BaseModel

from xueji_contracts.calendar.deadlines import local_date
from xueji_contracts.envelope import Envelope
from xueji_contracts.messages.dedupe_review import (
    ReviewCaseDeadline,
    ReviewCaseDecided,
    ReviewCaseOpened,
    ReviewDeadlineState,
    ReviewDecision,
)
from xueji_notify.domain.notification import Kind, Notification, Severity, about


def review_opened(message: Envelope[ReviewCaseOpened]) -> list[Notification]:
    p = message.payload
    due_zh = due_en = ""
    if p.due_at is not None:  # the last day in China time: the deadline is 24:00 of it
        day = _last_day(p)
        due_zh, due_en = f"，请于 {day} 前审核", f"; decide by {day}"
    title = (
        f"疑似重复学籍待审核（相似度 {p.score:.0%}{due_zh}）：{p.reason_zh}",
        f"Suspected duplicate to review (score {p.score:.0%}{due_en}): {p.reason_en}",
    )
    details = {"case_id": p.case_id, "school_code": p.school_code, "candidate_student_id": p.candidate_student_id}
    return [
        about(
            message, Kind.DEDUPE_REVIEW, Severity.ACTION, p.county_code, title, p.student_id,
            due_at=p.due_at, details=details,
        )
    ]  # fmt: skip


def _last_day(p: ReviewCaseOpened | ReviewCaseDeadline) -> str:
    assert p.due_at is not None
    return (local_date(p.due_at) - timedelta(days=1)).isoformat()


def review_deadline(message: Envelope[ReviewCaseDeadline]) -> list[Notification]:
    """R22 like a stage: a warning to the county before the deadline; past it, the county and the city above it."""
    p = message.payload
    day = _last_day(p)
    details = {"case_id": p.case_id, "state": p.state.value, "rule": "R14"}
    if p.state is ReviewDeadlineState.DUE_SOON:
        title = (f"疑似重复审核即将到期（{day}）", f"Suspected-duplicate review due soon ({day})")
        to, severity = [p.county_code], Severity.WARNING
    else:
        title = (f"疑似重复审核已逾期（应于 {day} 前完成）", f"Suspected-duplicate review overdue (was due {day})")
        to, severity = [p.county_code] + ([p.escalated_to] if p.escalated_to else []), Severity.URGENT
    return [
        about(message, Kind.DEDUPE_REVIEW, severity, code, title, p.student_id, due_at=p.due_at, details=details)
        for code in to
    ]


def review_decided(message: Envelope[ReviewCaseDecided]) -> list[Notification]:
    p = message.payload
    if p.decision is ReviewDecision.SAME_PERSON:
        title = (
            "审核结论：与已有学籍为同一人，不再新建学籍",
            "Review: same person as an existing record; no new status",
        )
    else:
        title = ("审核结论：非同一人，学籍已建立", "Review: a different person; the status record is created")
    details = {"case_id": p.case_id, "decision": p.decision.value}
    return [about(message, Kind.DEDUPE_REVIEW, Severity.INFO, p.school_code, title, p.student_id, details=details)]


Notes = Callable[[Any], list[Notification]]
NOTES: dict[str, tuple[type[BaseModel], Notes]] = {
    "ReviewCaseOpened": (ReviewCaseOpened, review_opened),
    "ReviewCaseDeadline": (ReviewCaseDeadline, review_deadline),
    "ReviewCaseDecided": (ReviewCaseDecided, review_decided),
}

"""Dedupe review cases -> a task for the county bureau, and the outcome for the school (R01, R14)."""

from __future__ import annotations

from xueji_contracts.envelope import Envelope
from xueji_contracts.messages.dedupe_review import ReviewCaseDecided, ReviewCaseOpened, ReviewDecision
from xueji_notify.domain.notification import Kind, Notification, Severity, about


def review_opened(message: Envelope[ReviewCaseOpened]) -> list[Notification]:
    p = message.payload
    title = (
        f"疑似重复学籍待审核（相似度 {p.score:.0%}）：{p.reason_zh}",
        f"Possible duplicate to review (score {p.score:.0%}): {p.reason_en}",
    )
    details = {"case_id": p.case_id, "school_code": p.school_code, "candidate_student_id": p.candidate_student_id}
    return [about(message, Kind.DEDUPE_REVIEW, Severity.ACTION, p.county_code, title, p.student_id, details=details)]


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


NOTES = {
    "ReviewCaseOpened": (ReviewCaseOpened, review_opened),
    "ReviewCaseDecided": (ReviewCaseDecided, review_decided),
}

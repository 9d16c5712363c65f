"""A notification: one message to one jurisdiction, in Chinese with the English text alongside."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from xueji_contracts.envelope import Envelope, derive_id


class Kind(StrEnum):
    STATUS_RECORDED = "status_recorded"
    STAGE_OPENED = "stage_opened"
    STAGE_DEADLINE_CHANGED = "stage_deadline_changed"
    STAGE_DECIDED = "stage_decided"
    STAGE_WARNING = "stage_warning"
    STAGE_BREACHED = "stage_breached"
    STAGE_ESCALATED = "stage_escalated"
    CASE_CHANGED = "case_changed"
    OFFLINE_OPENED = "offline_opened"
    OFFLINE_ACCEPTED = "offline_accepted"
    RECONCILED = "reconciled"
    COMPLIANCE = "compliance"
    DEDUPE_REVIEW = "dedupe_review"
    RULE_EXCEPTION = "rule_exception"  # RULES "Exceptions": shown to the county (R08, R27, R40)


class Severity(StrEnum):
    INFO = "info"
    ACTION = "action"  # someone here has to do something
    WARNING = "warning"  # and the deadline is near
    URGENT = "urgent"  # the deadline has passed


class Notification(BaseModel):
    model_config = ConfigDict(frozen=True)

    notification_id: str
    kind: Kind
    severity: Severity
    jurisdiction: str
    title_zh: str
    title_en: str
    subject_id: str
    created_at: datetime
    due_at: datetime | None = None
    source_message_id: str
    correlation_id: str
    details: dict[str, Any]


def notification_id(message: Envelope[Any], kind: str) -> str:
    """Derived from the consumed message, so a redelivery maps to the same notification."""
    return str(derive_id(message.message_id, "notify", kind))


def about(
    message: Envelope[Any],
    kind: Kind,
    severity: Severity,
    jurisdiction: str,
    title: tuple[str, str],
    subject_id: str,
    *,
    due_at: datetime | None = None,
    details: dict[str, Any] | None = None,
) -> Notification:
    """A notification caused by `message`: its id, time and correlation come from the message."""
    return Notification(
        notification_id=notification_id(message, f"{kind.value}:{jurisdiction}"),
        kind=kind,
        severity=severity,
        jurisdiction=jurisdiction,
        title_zh=title[0],
        title_en=title[1],
        subject_id=subject_id,
        created_at=message.occurred_at,
        due_at=due_at,
        source_message_id=str(message.message_id),
        correlation_id=str(message.correlation_id),
        details=details or {},
    )

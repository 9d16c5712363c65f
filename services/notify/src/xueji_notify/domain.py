"""What a notification says and to whom: pure functions from consumed events, no I/O."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from xueji_contracts.envelope import Envelope, derive_id
from xueji_contracts.messages.status import StudentStatusRecorded


class Notification(BaseModel):
    model_config = ConfigDict(frozen=True)

    notification_id: str
    kind: str
    jurisdiction: str
    title_zh: str
    title_en: str
    subject_id: str
    created_at: datetime
    source_message_id: str
    correlation_id: str
    details: dict[str, Any]


def notification_id(message: Envelope[Any], kind: str) -> str:
    """Derived from the consumed message, so a redelivery maps to the same notification."""
    return str(derive_id(message.message_id, "notify", kind))


def for_status_recorded(message: Envelope[StudentStatusRecorded]) -> Notification:
    p = message.payload
    return Notification(
        notification_id=notification_id(message, "status_recorded"),
        kind="status_recorded",
        jurisdiction=p.school_code,
        title_zh=f"学籍已建立：{p.status_number_masked}（{p.grade}年级）",
        title_en=f"Status record created: {p.status_number_masked} (grade {p.grade})",
        subject_id=p.student_id,
        created_at=message.occurred_at,
        source_message_id=str(message.message_id),
        correlation_id=str(message.correlation_id),
        details={"state": p.state.value, "school_year": p.school_year, "county_code": p.county_code},
    )

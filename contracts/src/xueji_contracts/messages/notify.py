"""Payloads notify sends out: the signed webhook body receivers verify, and `notify.webhook.dlq` records.

Webhook requests carry three headers besides the body:
`X-Xueji-Delivery` (the delivery id: the same on every retry, so a receiver applies it once),
`X-Xueji-Timestamp` (Unix seconds of this attempt) and
`X-Xueji-Signature` = `v1=` + hex HMAC-SHA256(secret, f"{timestamp}.{body}"). A receiver
recomputes the signature over the raw body, compares in constant time and refuses timestamps
older than a few minutes (replay).
"""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

CODE = r"^\d{6}(\d{4})?$"


class WebhookNotification(BaseModel):
    """The JSON body of one webhook delivery: a notification for a jurisdiction, both languages."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    delivery_id: str
    notification_id: str = Field(description="stable per notification; one notification may reach several hooks")
    kind: str
    severity: str = Field(description="info, action, warning or urgent")
    jurisdiction: str = Field(pattern=CODE)
    title_zh: str
    title_en: str
    subject_id: str = Field(description="opaque transfer, student or case id; never an ID number (R52)")
    due_at: AwareDatetime | None = None
    created_at: AwareDatetime
    correlation_id: str


class WebhookDeliveryFailed(BaseModel):
    """A delivery that failed after its last try, on `notify.webhook.dlq` (keyed by delivery id)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    delivery_id: str
    webhook_id: str
    notification_id: str
    jurisdiction: str = Field(pattern=CODE)
    url: str = Field(description="endpoint without query string")
    attempts: int = Field(ge=1)
    last_status: int | None = Field(default=None, description="HTTP status of the last try, none if it never answered")
    last_error: str
    failed_at: AwareDatetime

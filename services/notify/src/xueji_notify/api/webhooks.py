"""Webhook registration: a jurisdiction registers an HTTPS endpoint and gets the signing secret once (R50)."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from xueji_contracts.envelope import derive_id
from xueji_kit.idempotency import IdempotencyKey
from xueji_kit.security import Operator, found_in_jurisdiction, require_jurisdiction
from xueji_kit.store import Document
from xueji_notify.api.common import notify_of
from xueji_notify.domain.notification import Kind
from xueji_notify.domain.webhooks import endpoint_problem, scope_of

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])
SIGNING = (
    "POST with headers X-Xueji-Delivery (same on every retry: apply once), X-Xueji-Timestamp (Unix seconds) and "
    "X-Xueji-Signature = 'v1=' + hex HMAC-SHA256(secret, timestamp + '.' + raw body); refuse timestamps older "
    "than 5 minutes. X-Xueji-Consent (percent-encoded UTF-8) names the written consent the deliveries rest on "
    "(R52). Answer 2xx when applied; 5xx, 408, 429 or no answer are retried with backoff, other 4xx are not; "
    "410 Gone deactivates the webhook until its owner activates it again."
)


class WebhookRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)  # spaces are no consent reference (R52)

    url: str = Field(max_length=2000, description="https:// endpoint, or mailto: one address when e-mail is on")
    jurisdiction: str | None = Field(default=None, pattern=r"^\d{6}(\d{4})?$", description="default: the operator's")
    kinds: list[Kind] = Field(default_factory=list, description="empty: every kind")
    description: str | None = Field(default=None, max_length=200)
    consent_reference: str = Field(
        min_length=3,
        max_length=100,
        description="R52: the competent bureau's written consent to send status information to this endpoint "
        "(document number); recorded with the webhook and sent with every delivery as X-Xueji-Consent",
    )


# What an owner registered and the hook's state. Named, not "all but the secret": a field notify adds for itself (the
# `activation` id an attempt is judged by) stays out of the answer unless it is added here.
_SHOWN = (
    "jurisdiction", "scope", "url", "kinds", "description", "active", "consent_reference", "created_by", "created_at",
    "activated_at", "activated_by", "deactivated_at", "deactivated_reason",
)  # fmt: skip


# A delivery's fields the answer leaves out: its id (shown as `delivery_id`) and its place in the hook's log.
_OWN = frozenset({"_id", "log_entry"})


def _public(doc: Document) -> Document:
    return {"webhook_id": doc["_id"]} | {k: doc[k] for k in _SHOWN if k in doc}


@router.post("", status_code=201, summary="Register an endpoint; the answer carries the signing secret, once")
async def register(
    operator: Operator, request: Request, body: WebhookRequest, key: IdempotencyKey = None
) -> dict[str, Any]:
    jurisdiction = body.jurisdiction or operator.code
    require_jurisdiction(operator, jurisdiction)
    notify = notify_of(request)
    settings = notify.settings
    problem = endpoint_problem(body.url, settings.webhook_allow_http, mail_on=bool(settings.smtp_host))
    if problem:
        raise HTTPException(422, [{"field": "url", "reason": problem, "in": "body"}])
    webhook_id = str(derive_id("webhook", operator.sub, key) if key else uuid.uuid4())
    doc = {
        "_id": webhook_id, "jurisdiction": jurisdiction, "scope": scope_of(jurisdiction), "url": body.url,
        "kinds": [k.value for k in body.kinds], "description": body.description, "active": True,
        "consent_reference": body.consent_reference,
        "secret": secrets.token_urlsafe(32), "created_by": operator.sub, "created_at": datetime.now(UTC),
    }  # fmt: skip
    # With a key, a retry after a crash that lost the first answer finds the first registration, not a second one.
    doc = await notify.register_webhook(doc)
    return _public(doc) | {"secret": doc["secret"], "signing": SIGNING}


@router.get(
    "",
    summary="Webhooks registered in the operator's jurisdiction (without secrets); an inactive one says "
    "why and since when (`deactivated_reason`, `deactivated_at`)",
)
async def webhooks(operator: Operator, request: Request) -> dict[str, Any]:
    return {"webhooks": [_public(d) for d in await notify_of(request).webhooks.under(operator.prefix)]}


async def _visible(request: Request, operator: Operator, webhook_id: str) -> Document:
    doc = await notify_of(request).webhooks.webhook(webhook_id)
    return found_in_jurisdiction(operator, doc, "jurisdiction", f"no webhook {webhook_id}")


@router.delete("/{webhook_id}", status_code=204, summary="Stop deliveries to this endpoint")
async def remove(operator: Operator, request: Request, webhook_id: Annotated[str, Path(max_length=64)]) -> Response:
    await _visible(request, operator, webhook_id)
    await notify_of(request).stop_webhook(webhook_id, operator, datetime.now(UTC))
    return Response(status_code=204)


@router.post(
    "/{webhook_id}/activate",
    summary="Deliver to this endpoint again: one deactivated because it answered 410 Gone, or stopped",
)
async def activate(
    operator: Operator, request: Request, webhook_id: Annotated[str, Path(max_length=64)]
) -> dict[str, Any]:
    await _visible(request, operator, webhook_id)
    doc = await notify_of(request).activate_webhook(webhook_id, operator, datetime.now(UTC))
    if doc is None:  # removed from the store meanwhile
        raise HTTPException(404, f"no webhook {webhook_id}")
    return _public(doc)


@router.get("/{webhook_id}/deliveries", summary="Recent deliveries with every attempt")
async def deliveries(
    operator: Operator,
    request: Request,
    webhook_id: Annotated[str, Path(max_length=64)],
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    await _visible(request, operator, webhook_id)
    docs = await notify_of(request).webhooks.deliveries_of(webhook_id, limit)
    shown = [{k: v for k, v in d.items() if k not in _OWN} | {"delivery_id": d["_id"]} for d in docs]
    return {"deliveries": shown}

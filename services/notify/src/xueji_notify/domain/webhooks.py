"""Webhook rules: who receives a notification, how a delivery is signed, when a failed one is retried."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from xueji_notify.domain.jurisdiction import node_of

SIGNATURE_VERSION = "v1"
# Retrying cannot help these: the receiver refuses the request itself (408 and 429 say "later").
_FINAL = frozenset(range(400, 500)) - {408, 425, 429}


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """`v1=` + hex HMAC-SHA256 over "<timestamp>.<body>", so a replayed body with a new time fails."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_VERSION}={mac}"


def verify(secret: str, timestamp: int, body: bytes, signature: str, now: float, tolerance: float = 300) -> bool:
    """What a receiver does: recompute, compare in constant time, refuse stale timestamps."""
    if abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def backoff(attempt: int, base: float, cap: float, jitter: float) -> float:
    """Seconds before retry number `attempt + 1`: exponential, capped, with "equal jitter" (`jitter` in
    [0, 1)): never less than half the step, so receivers are not hammered, yet retries spread out."""
    step = min(cap, base * 2.0**attempt)
    return step / 2 + step / 2 * jitter


def retryable(status: int | None) -> bool:
    """None: no answer (timeout, refused connection). 5xx, 408, 425 and 429 are worth another try."""
    return status is None or status not in _FINAL


def gone(status: int | None) -> bool:
    """410 Gone: the receiver ended the subscription for good, so its hook is deactivated, not just this delivery."""
    return status == 410


def ended_by_gone(hook: Mapping[str, Any], attempt: Mapping[str, Any]) -> bool:
    """Whether a 410 answered to `attempt` deactivates `hook` as it is now: only while the hook is still active under
    the activation the attempt was made under. An owner's activation since (after another attempt's 410, or a stop)
    stands, and so does a stop, with its own reason. Attempts recorded before they carried their activation are
    judged by the times: the hook activated no later than the attempt's answer."""
    if not hook.get("active"):
        return False
    if "activation" in attempt:
        return bool(hook.get("activation") == attempt["activation"])
    activated = hook.get("activated_at")
    return activated is None or bool(activated.replace(tzinfo=UTC) <= attempt["at"].replace(tzinfo=UTC))


def expired(delivery: Mapping[str, Any], cutoff: datetime) -> bool:
    """Whether the retention removes `delivery`: it ended (delivered, or failed after its last try) before `cutoff`.
    One pending (tried, retried or replayed) is never removed, however old."""
    ended = {"delivered": "delivered_at", "failed": "failed_at"}.get(str(delivery.get("state")))
    if ended is None:
        return False
    at = delivery.get(ended) or delivery["created_at"]
    return bool(at.replace(tzinfo=at.tzinfo or UTC) < cutoff)


def receives(webhook: Mapping[str, Any], kind: str, jurisdiction: str) -> bool:
    """A hook registered for a jurisdiction gets the notifications addressed inside it, of its kinds."""
    kinds = webhook.get("kinds") or []
    return bool(webhook.get("active")) and jurisdiction.startswith(webhook["scope"]) and (not kinds or kind in kinds)


def endpoint_problem(url: str, allow_http: bool, mail_on: bool = False) -> str | None:
    """Why `url` cannot be a webhook endpoint, or None when it can (`mailto:` while e-mail is on)."""
    parts = urlsplit(url)
    if parts.scheme == "mailto":
        if not mail_on:
            return "e-mail delivery is off (set XUEJI_SMTP_HOST)"
        return None if "@" in parts.path and "," not in parts.path else "must name one address"
    if parts.scheme != "https" and not (allow_http and parts.scheme == "http"):
        return "must be an https:// URL"
    if not parts.hostname:
        return "needs a host"
    if parts.username or parts.password:
        return "must not carry credentials; the signature authenticates the sender"
    if parts.fragment:
        return "must not have a #fragment"
    return None


def scope_of(jurisdiction: str) -> str:
    return node_of(jurisdiction)

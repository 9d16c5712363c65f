"""Webhook delivery: signed POSTs, retried with exponential backoff and jitter, dead-lettered after the last try.

Each attempt is a durable timer (xueji_kit.timers): claimed by one replica, lost by none across restarts.
The delivery id is derived from the notification and the hook, so a redelivered event never makes a
second delivery, and every retry carries the same `X-Xueji-Delivery` for the receiver to apply once.
"""

from __future__ import annotations

import asyncio
import random
import ssl
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx
import structlog

from xueji_contracts.envelope import derive_id, envelop
from xueji_contracts.messages.notify import WebhookDeliveryFailed, WebhookNotification
from xueji_contracts.topics import NOTIFY_WEBHOOK_DLQ
from xueji_kit.event_store import EventStore
from xueji_kit.outbox_entries import Outgoing
from xueji_kit.relay import OutboxRelay
from xueji_kit.timers import Timer, TimerScheduler, TimerStore, minute_of
from xueji_notify.domain.jurisdiction import scopes_of
from xueji_notify.domain.notification import Notification
from xueji_notify.domain.webhooks import backoff, ended_by_gone, gone, receives, retryable, sign
from xueji_notify.mail import send_mail
from xueji_notify.metrics import EMAILS, WEBHOOK_DELIVERIES, WEBHOOK_SECONDS, WEBHOOKS_DEACTIVATED
from xueji_notify.settings import NotifySettings
from xueji_notify.store import WebhookStore

log = structlog.get_logger("notify.webhooks")
TIMER_KIND = "webhook"
GONE = "the receiver answered 410 Gone"
SCHEDULER = "notify-webhooks"


def _stored(at: datetime) -> datetime:
    """`at` as the store keeps it (milliseconds), so a time read back computes the same due time as the original."""
    return at.replace(microsecond=at.microsecond // 1000 * 1000)


def attempt_timer(delivery_id: str, attempt: int, due: datetime) -> Timer:
    """The durable timer of one attempt (numbered from 0 over the delivery's life, replays included)."""
    return Timer(f"webhook:{delivery_id}:{attempt}", TIMER_KIND, delivery_id, due, {"attempt": attempt})


class WebhookDeliverer:
    def __init__(
        self, settings: NotifySettings, store: WebhookStore, timers: TimerStore, events: EventStore, relay: OutboxRelay
    ) -> None:
        self._settings = settings
        self._store = store
        self._timers = timers
        self._events = events
        self._relay = relay
        stale = timedelta(seconds=settings.webhook_stale_claim_seconds)
        self._scheduler = TimerScheduler(timers, self._fire, name=SCHEDULER, stale_claim=stale)
        self._client: httpx.AsyncClient | None = None

    async def schedule(self, note: Notification) -> None:
        """The notifier's outlet: one delivery per hook that receives this notification (idempotent). None for a
        notification older than the delivery retention: read again (a replay of the topic), its delivery may have
        ended and been removed, and would be stored and sent anew; a stored one is left as it is."""
        if note.created_at < datetime.now(UTC) - timedelta(days=self._settings.webhook_deliveries_kept_days):
            return
        hooks = [
            h
            for h in await self._store.for_scopes(scopes_of(note.jurisdiction))
            if receives(h, note.kind, note.jurisdiction)
        ]
        for hook in hooks:
            delivery_id = str(derive_id(note.notification_id, hook["_id"], "webhook"))
            body = WebhookNotification(
                delivery_id=delivery_id, notification_id=note.notification_id, kind=note.kind.value,
                severity=note.severity.value, jurisdiction=note.jurisdiction, title_zh=note.title_zh,
                title_en=note.title_en, subject_id=note.subject_id, due_at=note.due_at, created_at=note.created_at,
                correlation_id=note.correlation_id,
            ).model_dump_json()  # fmt: skip
            now = _stored(datetime.now(UTC))
            created = await self._store.add_delivery({
                "_id": delivery_id, "webhook_id": hook["_id"], "notification_id": note.notification_id,
                "jurisdiction": note.jurisdiction, "url": hook["url"], "body": body, "state": "pending",
                "consent_reference": hook.get("consent_reference"),
                "attempts": [], "created_at": now,
            })  # fmt: skip
            if not created:  # a redelivery: arm the first attempt as stored (one timer), unless it has been made
                stored = await self._store.delivery(delivery_id)
                if stored is None or stored["state"] != "pending" or stored.get("attempts"):
                    continue
                now = stored["created_at"].replace(tzinfo=UTC)
            await self._arm(delivery_id, 0, now)

    async def _arm(self, delivery_id: str, attempt: int, due: datetime) -> None:
        await self._timers.arm(attempt_timer(delivery_id, attempt, due))

    async def _fire(self, timer: Timer) -> None:
        delivery = await self._store.delivery(timer.aggregate_id)
        if delivery is None or delivery["state"] != "pending":
            return
        attempt = int(timer.data["attempt"])
        made = next((a for a in delivery.get("attempts") or [] if a.get("attempt") == attempt + 1), None)
        if made is not None:
            # Made and recorded already: this timer fires again because the replica that made it died before its
            # timer was marked fired (its claim was taken over). Post nothing; arm the next attempt as that replica
            # did (the same timer, due at the same time), or arm it at last if it died before.
            log.info("webhook_attempt_already_made", delivery_id=delivery["_id"], attempt=attempt + 1)
            await self._after_failure(delivery, attempt, made | {"at": made["at"].replace(tzinfo=UTC)}, fresh=False)
            return
        hook = await self._store.webhook(delivery["webhook_id"])
        if hook is None or not hook.get("active"):
            reason = hook.get("deactivated_reason") if hook else None
            await self._give_up(delivery, attempt, None, f"the webhook was deactivated: {reason or 'removed'}")
            return
        status, error, took = await self._post(delivery, hook["secret"])
        now = _stored(datetime.now(UTC))
        # With the activation the hook was posted under: what a 410 to this attempt may end (ended_by_gone).
        record = {"attempt": attempt + 1, "at": now, "status": status, "error": error, "seconds": round(took, 3),
                  "activation": hook.get("activation")}  # fmt: skip
        if status is not None and 200 <= status < 300:  # SMTP 250 counts too
            await self._store.record_attempt(delivery["_id"], record, {"state": "delivered", "delivered_at": now})
            WEBHOOK_DELIVERIES.labels("delivered").inc()
            log.info("webhook_delivered", delivery_id=delivery["_id"], attempts=attempt + 1, status=status)
            return
        await self._store.record_attempt(delivery["_id"], record, {"last_status": status, "last_error": error})
        await self._after_failure(delivery, attempt, record)

    async def _after_failure(
        self, delivery: dict[str, Any], attempt: int, made: dict[str, Any], *, fresh: bool = True
    ) -> None:
        """After a failed attempt (`made`, as recorded): its next attempt, due at a time that depends on the attempt
        alone (its jitter derived from the delivery and the attempt), so arming it twice arms one timer; else
        dead-lettered.
        A 410 Gone also deactivates the hook: the receiver ended the subscription, so nothing more is sent to it."""
        status, error, at = made.get("status"), made.get("error"), made["at"]
        if gone(status):
            await self._deactivate_gone(delivery, made, fresh=fresh)
        tries = attempt + 1 - delivery.get("round_start", 0)  # a replay (webhook_dlq) starts a new round of tries
        if retryable(status) and tries < self._settings.webhook_max_attempts:
            s = self._settings
            jitter = random.Random(f"{delivery['_id']}:{attempt}").random()
            wait = backoff(attempt, s.webhook_backoff_seconds, s.webhook_backoff_cap_seconds, jitter)
            await self._arm(delivery["_id"], attempt + 1, at + timedelta(seconds=wait))
            if fresh:
                WEBHOOK_DELIVERIES.labels("retrying").inc()
                log.info("webhook_retrying", delivery_id=delivery["_id"], attempt=attempt + 1, status=status,
                         error=error, next_in_seconds=round(wait, 2))  # fmt: skip
            return
        await self._give_up(delivery, attempt + 1, status, error or f"HTTP {status}")

    async def _deactivate_gone(self, delivery: dict[str, Any], made: dict[str, Any], *, fresh: bool) -> None:
        """Deactivated as of the attempt that got the 410, unless its owner activated or stopped the hook since
        (`ended_by_gone`), so an attempt fired again after a takeover writes the same or nothing. Read and written
        by `_id` (the store's one indexed filter); an activation landing between this read and write (one store
        round trip, not the attempt's POST) is still overwritten: the owner then sees the 410 and activates again."""
        hook = await self._store.webhook(delivery["webhook_id"])
        if hook is None or not ended_by_gone(hook, made):
            return
        await self._store.deactivate(delivery["webhook_id"], made["at"], GONE)
        if fresh:
            WEBHOOKS_DEACTIVATED.labels("gone").inc()
            log.warning("webhook_deactivated", webhook_id=delivery["webhook_id"], delivery_id=delivery["_id"],
                        reason=GONE)  # fmt: skip

    async def _post(self, delivery: dict[str, Any], secret: str) -> tuple[int | None, str | None, float]:
        assert self._client is not None
        if delivery["url"].startswith("mailto:"):
            started = time.perf_counter()
            status, error = await send_mail(self._settings, delivery["url"], delivery["body"], delivery["_id"])
            EMAILS.labels("sent" if status == 250 else "failed").inc()
            return status, error, time.perf_counter() - started
        body = delivery["body"].encode()
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json", "User-Agent": "xueji-notify/1",
            "X-Xueji-Delivery": delivery["_id"], "X-Xueji-Timestamp": str(timestamp),
            "X-Xueji-Signature": sign(secret, timestamp, body),
            "X-Xueji-Consent": quote(delivery.get("consent_reference") or ""),  # a header is ASCII: percent-encoded
        }  # fmt: skip
        started = time.perf_counter()
        limit = self._settings.webhook_timeout_seconds
        try:
            # The whole attempt, not each phase or read as httpx's timeout: a receiver trickling its answer would
            # otherwise hold it past the stale claim, and another replica would post the delivery beside it.
            async with asyncio.timeout(limit):
                answer = await self._client.post(delivery["url"], content=body, headers=headers)
        except TimeoutError:
            return None, f"TimeoutError: no whole answer within {limit:g} s", time.perf_counter() - started
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}"[:300], time.perf_counter() - started
        finally:
            WEBHOOK_SECONDS.observe(time.perf_counter() - started)
        return (
            answer.status_code,
            None if answer.is_success else f"HTTP {answer.status_code}",
            time.perf_counter() - started,
        )

    async def _give_up(self, delivery: dict[str, Any], attempts: int, status: int | None, error: str) -> None:
        """Recorded failed, and put on notify.webhook.dlq through the outbox (published at least once)."""
        now = datetime.now(UTC)
        await self._store.finish(delivery["_id"], {"state": "failed", "failed_at": now, "last_error": error})
        failed = WebhookDeliveryFailed(
            delivery_id=delivery["_id"], webhook_id=delivery["webhook_id"], notification_id=delivery["notification_id"],
            jurisdiction=delivery["jurisdiction"], url=delivery["url"].split("?")[0], attempts=max(1, attempts),
            last_status=status, last_error=error, failed_at=now,
        )  # fmt: skip
        replays = int(delivery.get("replays", 0))  # each replayed round that fails again is a letter of its own
        failure_id = derive_id(delivery["_id"], "failed", *([replays] if replays else []))
        message = envelop(failed, producer="notify", province=self._settings.province, occurred_at=now,
                          message_id=failure_id)  # fmt: skip
        await self._events.append(
            commit_id=str(failure_id), aggregate_id=f"webhook-delivery:{delivery['_id']}",
            version=replays + 1, events=[{"type": "WebhookDeliveryFailed", "delivery_id": delivery["_id"]}],
            outgoing=[Outgoing(NOTIFY_WEBHOOK_DLQ.name, delivery["_id"], message)],
        )  # fmt: skip
        self._relay.nudge()
        WEBHOOK_DELIVERIES.labels("failed").inc()
        log.warning("webhook_failed", delivery_id=delivery["_id"], attempts=attempts, status=status, error=error)

    def _ssl(self) -> ssl.SSLContext:
        ca = self._settings.webhook_ca_file
        return ssl.create_default_context(cafile=str(ca)) if ca else ssl.create_default_context()

    async def _start_fresh(self) -> None:
        """A new database has no timers older than now, so the scheduler need not look back a day
        (1,440 minute lookups, about 6 s on FerretDB) before its first delivery."""
        if await self._timers.last_finished_minute(SCHEDULER) is None:
            await self._timers.finish_minute(SCHEDULER, minute_of(datetime.now(UTC)) - 2)

    async def run_forever(self) -> None:
        await self._start_fresh()
        timeout = httpx.Timeout(self._settings.webhook_timeout_seconds)
        async with httpx.AsyncClient(verify=self._ssl(), timeout=timeout, follow_redirects=False) as client:
            self._client = client
            await self._scheduler.run_forever(timedelta(seconds=self._settings.webhook_tick_seconds))

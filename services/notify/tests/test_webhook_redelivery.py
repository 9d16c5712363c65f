"""R22: a notification redelivered while its webhook delivery is still pending starts no second chain of attempts.

The notifier hands every notification to its outlets again on a redelivery (a crash between storing and delivering
must not lose it). The delivery is stored once, by its derived id; its first attempt used to be armed at the
redelivery's own `now`, so a redelivery in a later minute filed a second timer for the same attempt, in that minute:
a receiver down for hours got every attempt twice, from two chains of retries running side by side.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pytest

import xueji_notify.delivery as delivery_module
from xueji_kit.timers import Timer, TimerStore
from xueji_notify.delivery import WebhookDeliverer
from xueji_notify.domain.notification import Kind, Notification, Severity
from xueji_notify.settings import NotifySettings
from xueji_notify.store import WebhookStore

pytestmark = pytest.mark.integration
COUNTY = "350602"


def _note() -> Notification:
    return Notification(
        notification_id="n-1", kind=Kind.STAGE_WARNING, severity=Severity.WARNING, jurisdiction=COUNTY,
        title_zh="预警", title_en="warning", subject_id="case-1", created_at=datetime.now(UTC),
        source_message_id="m-1", correlation_id="c-1", details={},
    )  # fmt: skip


def _later(minutes: int) -> type[datetime]:
    class Later(datetime):
        @classmethod
        def now(cls, tz=None):  # type: ignore[no-untyped-def, override]
            return datetime.now(tz) + timedelta(minutes=minutes)

    return Later


async def _deliverer(database, url: str = "https://127.0.0.1:9/hook") -> tuple[WebhookDeliverer, TimerStore]:
    hooks, timers = WebhookStore(database), TimerStore(database)
    await hooks.register({"_id": "hook-1", "scope": COUNTY, "active": True, "kinds": [], "url": url, "secret": "s"})
    return WebhookDeliverer(NotifySettings(province="35"), hooks, timers, None, None), timers  # type: ignore[arg-type]


async def test_r22_a_notification_redelivered_minutes_later_arms_its_pending_delivery_no_second_first_attempt(
    database, monkeypatch
) -> None:
    deliverer, timers = await _deliverer(database)
    await deliverer.schedule(_note())
    monkeypatch.setattr(delivery_module, "datetime", _later(3))  # the redelivery comes three minutes on
    await deliverer.schedule(_note())
    armed = [t["timer_id"] for t in await timers.armed()]
    assert len(armed) == 1, f"one delivery, one first attempt armed: {armed}"


async def test_r22_a_delivery_stored_but_never_armed_is_armed_by_the_redelivery(database) -> None:
    deliverer, timers = await _deliverer(database)
    await deliverer.schedule(_note())
    first = (await timers.armed())[0]
    # as though the process died after storing the delivery, before arming its first attempt:
    await database[f"timers_m{delivery_module.minute_of(first['due_at'])}"].delete_many({})
    await deliverer.schedule(_note())
    assert [t["timer_id"] for t in await timers.armed()] == [first["timer_id"]]


async def _refusing_receiver(reader, writer) -> None:  # type: ignore[no-untyped-def]
    """Counts each request and answers 503."""
    await reader.readuntil(b"\r\n\r\n")
    _refusing_receiver.posts += 1  # type: ignore[attr-defined]
    writer.write(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    await writer.drain()
    writer.close()


async def test_r22_an_attempt_fired_again_after_a_takeover_starts_no_second_chain_of_retries(
    database, monkeypatch
) -> None:
    """A replica that posted an attempt, recorded it and armed the next, then died before its timer was marked fired
    (they are marked together, after every timer of its tick): its claim is taken over a minute later and the attempt
    fires again. That firing must not post the recorded attempt again, nor arm a second next attempt of its own."""
    _refusing_receiver.posts = 0  # type: ignore[attr-defined]
    server = await asyncio.start_server(_refusing_receiver, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    deliverer, timers = await _deliverer(database, url=f"http://127.0.0.1:{port}/hook")
    await deliverer.schedule(_note())
    (first,) = await timers.armed()
    timer = Timer(first["_id"], first["kind"], first["aggregate_id"], first["due_at"], first["data"])
    try:
        async with httpx.AsyncClient(timeout=httpx.Timeout(5.0)) as client:
            deliverer._client = client
            await deliverer._fire(timer)
            monkeypatch.setattr(delivery_module, "datetime", _later(2))  # the takeover, past the stale claim
            await deliverer._fire(timer)
    finally:
        server.close()
        await server.wait_closed()
    retries = [t for t in await timers.armed() if t["timer_id"].endswith(":1")]
    assert len(retries) == 1, f"one next attempt armed: {[(t['timer_id'], t['due_at']) for t in retries]}"
    assert _refusing_receiver.posts == 1  # type: ignore[attr-defined]

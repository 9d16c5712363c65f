"""R22: a 410 Gone deactivates its hook as of the attempt that got it, never over its owner's later re-activation.

An attempt recorded and then fired again after a takeover (its replica died before marking its timer fired) comes
back minutes on: by then the owner may have activated the hook again, and that firing must leave it active.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from xueji_kit.event_store import EventStore
from xueji_kit.timers import Timer, TimerStore
from xueji_notify.delivery import WebhookDeliverer
from xueji_notify.settings import NotifySettings
from xueji_notify.store import WebhookStore

pytestmark = pytest.mark.integration


class _Relay:
    def nudge(self) -> None:
        pass


async def _gone_attempt_fired_again(database, activated_at: datetime | None) -> dict:
    hooks = WebhookStore(database)
    made = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=2)
    hook = {
        "_id": "hook-1",
        "scope": "350602",
        "active": True,
        "kinds": [],
        "url": "https://127.0.0.1:9/h",
        "secret": "s",
    }
    await hooks.webhooks.insert_one(hook | ({"activated_at": activated_at} if activated_at else {}))
    attempt = {"attempt": 1, "at": made, "status": 410, "error": "HTTP 410", "seconds": 0.1}
    await hooks.add_delivery({"_id": "d-1", "webhook_id": "hook-1", "notification_id": "n-1", "jurisdiction": "350602",
                              "url": hook["url"], "body": "{}", "state": "pending", "attempts": [attempt],
                              "created_at": made})  # fmt: skip
    deliverer = WebhookDeliverer(NotifySettings(province="35"), hooks, TimerStore(database), EventStore(database),
                                 _Relay())  # type: ignore[arg-type]  # fmt: skip
    await deliverer._fire(Timer("webhook:d-1:0", "webhook", "d-1", made, {"attempt": 0}))
    assert (await hooks.delivery("d-1"))["state"] == "failed"  # type: ignore[index]
    return await hooks.webhook("hook-1")  # type: ignore[return-value]


async def test_r22_a_410_fired_again_after_a_takeover_deactivates_the_hook_as_of_its_attempt(database) -> None:
    hook = await _gone_attempt_fired_again(database, activated_at=None)
    assert hook["active"] is False and hook["deactivated_reason"] == "the receiver answered 410 Gone"


async def test_r22_a_410_fired_again_after_a_takeover_leaves_a_hook_its_owner_activated_since(database) -> None:
    hook = await _gone_attempt_fired_again(database, activated_at=datetime.now(UTC) - timedelta(seconds=30))
    assert hook["active"] is True and "deactivated_reason" not in hook


async def _attempt_meanwhile(database, meanwhile, status: int) -> dict:
    """One attempt of a delivery to an active hook, `meanwhile` run while its POST is on the wire, then `status`."""
    hooks = WebhookStore(database)
    await hooks.webhooks.insert_one(
        {"_id": "hook-1", "scope": "350602", "active": True, "kinds": [], "url": "https://127.0.0.1:9/h", "secret": "s"}
    )
    made = datetime.now(UTC).replace(microsecond=0)
    await hooks.add_delivery({"_id": "d-1", "webhook_id": "hook-1", "notification_id": "n-1", "jurisdiction": "350602",
                              "url": "https://127.0.0.1:9/h", "body": "{}", "state": "pending", "attempts": [],
                              "created_at": made})  # fmt: skip
    deliverer = WebhookDeliverer(NotifySettings(province="35"), hooks, TimerStore(database), EventStore(database),
                                 _Relay())  # type: ignore[arg-type]  # fmt: skip

    async def post(delivery: dict, secret: str) -> tuple[int | None, str | None, float]:
        await meanwhile(hooks)
        return status, None if status < 300 else f"HTTP {status}", 0.1

    deliverer._post = post  # type: ignore[method-assign]
    await deliverer._fire(Timer("webhook:d-1:0", "webhook", "d-1", made, {"attempt": 0}))
    return await hooks.webhook("hook-1")  # type: ignore[return-value]


async def test_r22_a_410_answered_after_the_owner_activated_the_hook_again_leaves_it_active(database) -> None:
    """The attempt began before the owner's activation (after another delivery's 410) and its own 410 came after:
    the owner activated the hook knowing the receiver is back, so that activation stands."""

    async def gone_then_activated(hooks: WebhookStore) -> None:
        await hooks.deactivate("hook-1", datetime.now(UTC), "the receiver answered 410 Gone")
        await hooks.activate("hook-1", datetime.now(UTC), "owner")

    hook = await _attempt_meanwhile(database, gone_then_activated, 410)
    assert hook["active"] is True and "deactivated_reason" not in hook


async def test_r22_a_410_answered_to_an_attempt_under_the_current_activation_deactivates_the_hook(database) -> None:
    async def nothing(hooks: WebhookStore) -> None:
        pass

    hook = await _attempt_meanwhile(database, nothing, 410)
    assert hook["active"] is False and hook["deactivated_reason"] == "the receiver answered 410 Gone"


async def test_r22_a_hook_stopped_while_an_attempt_is_on_the_wire_stays_stopped(database) -> None:
    """Whatever the receiver answers, the owner's stop stands, with its own reason."""

    async def stopped(hooks: WebhookStore) -> None:
        await hooks.deactivate("hook-1", datetime.now(UTC), "stopped by owner")

    for status in (200, 410):
        await database["webhooks"].delete_many({})
        await database["webhook_deliveries"].delete_many({})
        hook = await _attempt_meanwhile(database, stopped, status)
        assert hook["active"] is False and hook["deactivated_reason"] == "stopped by owner", status

"""R22: a 410 Gone deactivates its hook as of the attempt that got it, never over its owner's later re-activation.

An attempt recorded and then fired again after a takeover (its replica died before marking its timer fired) comes
back minutes on: by then the owner may have activated the hook again, and that firing must leave it active.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from xueji_kit.store import EventStore
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

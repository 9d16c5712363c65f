"""docs/operations.md, "Failed timers" and "Webhook deliveries", executed on notify.

A webhook attempt's timer raises at every try (a bug in the deliverer): it is parked (`xueji_timers_failed_total`
on /metrics, the alert XuejiTimersFailed's metric); `python -m xueji_kit.failed_timers list --service notify` names
it, and after the fix `refire --service notify` arms it again: the delivery is made. A receiver that is down ends
another hook's delivery failed on notify.webhook.dlq: `python -m xueji_notify.webhook_dlq list` names it, and once the
receiver is fixed `replay --hook <webhook id>` delivers it under its own delivery id; replayed again, nothing is sent.
"""

from __future__ import annotations

from typing import Any

import notify_events as ev
import pytest
from runbook_support import metric_value

from xueji_kit import timer_scheduler
from xueji_kit.store import connect
from xueji_kit.timers import TimerStore
from xueji_notify.app import create_app
from xueji_notify.delivery import WebhookDeliverer
from xueji_notify.settings import NotifySettings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]
CONSENT = "闽教基〔2026〕12号"


async def test_a_parked_webhook_timer_is_refired_and_a_dead_lettered_delivery_replayed(
    start_app, isolation, operator, receiver, token, wait_for, monkeypatch
):
    posting = WebhookDeliverer._post

    async def broken(self: WebhookDeliverer, delivery: dict[str, Any], secret: str) -> Any:
        if delivery["url"].endswith("/school"):
            raise RuntimeError("deliverer: cannot sign this body")
        return await posting(self, delivery, secret)

    monkeypatch.setattr(WebhookDeliverer, "_post", broken)
    monkeypatch.setattr(timer_scheduler, "MAX_ATTEMPTS", 2)  # 10 in production, about 8.5 minutes
    hooks = await receiver({"/school": ["ok"], "/down": ["fail"]})
    notify = await start_app(
        create_app, NotifySettings, webhook_ca_file=receiver.cert, webhook_backoff_seconds=0.3,
        webhook_backoff_cap_seconds=2, webhook_timeout_seconds=1.0, webhook_tick_seconds=0.1, webhook_max_attempts=2,
    )  # fmt: skip
    database = notify.app.state.runtime.db.name
    owner = {"Authorization": f"Bearer {token('school', ev.SCHOOL)}"}
    registered = {}
    for path in hooks.script:
        answer = await notify.post(
            "/v1/webhooks", json={"url": f"{hooks.base_url}{path}", "consent_reference": CONSENT}, headers=owner
        )
        assert answer.status_code == 201, answer.text
        registered[path] = answer.json()
        hooks.secrets[path] = registered[path]["secret"]
    async with ev.Upstream(isolation) as upstream:
        await upstream.send(ev.opened(ev.transfer_id()))

    client = connect(isolation.servers.mongodb)
    try:
        timers = TimerStore(client[database])

        async def parked() -> list[dict[str, Any]]:
            return await timers.parked()

        (timer,) = await wait_for(parked, timeout=60)
        kind = timer["kind"]
        assert await metric_value(notify, "xueji_timers_failed_total", kind=kind) >= 1

        # Failed timers: 1. see them, 2. fix the cause, 3. fire them again.
        listed = await operator(database, "xueji_kit.failed_timers", "list", "--service", "notify")
        assert listed.returncode == 0, listed.stderr
        assert timer["_id"] in listed.stdout and "RuntimeError: deliverer" in listed.stdout
        monkeypatch.setattr(WebhookDeliverer, "_post", posting)
        refired = await operator(database, "xueji_kit.failed_timers", "refire", "--service", "notify")
        assert refired.returncode == 0, refired.stderr
        assert f"armed again {timer['_id']}" in refired.stdout

        async def delivered(path: str) -> dict[str, Any] | None:
            answer = await notify.get(f"/v1/webhooks/{registered[path]['webhook_id']}/deliveries", headers=owner)
            found = answer.json()["deliveries"]
            return found[0] if found and found[0]["state"] == "delivered" else None

        school = await wait_for(lambda: delivered("/school"), timeout=60)
        assert hooks.applied == {school["delivery_id"]: 1}
        assert await timers.parked() == []

        # Webhook deliveries: the receiver at /down failed every try; the delivery is a letter on notify.webhook.dlq.
        down = registered["/down"]["webhook_id"]

        async def listed_failed() -> str:
            ran = await operator(database, "xueji_notify.webhook_dlq", "list")
            assert ran.returncode == 0, ran.stderr
            return ran.stdout if "now failed" in ran.stdout else ""

        letters = await wait_for(listed_failed, timeout=60, interval=1)
        assert f"hook {down}" in letters and "HTTP 503" in letters
        hooks.script["/down"] = ["ok"]  # the receiver is fixed
        replayed = await operator(database, "xueji_notify.webhook_dlq", "replay", "--hook", down)
        assert replayed.returncode == 0, replayed.stderr
        assert "replayed " in replayed.stdout
        done = await wait_for(lambda: delivered("/down"), timeout=60)
        assert [a["status"] for a in done["attempts"]] == [503, 503, 200]
        again = await operator(database, "xueji_notify.webhook_dlq", "replay", "--hook", down)
        assert again.returncode == 0 and f"skipped {done['delivery_id']}: delivered" in again.stdout
        assert hooks.applied[done["delivery_id"]] == 1
    finally:
        await client.close()

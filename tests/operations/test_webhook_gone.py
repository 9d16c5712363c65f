"""docs/operations.md, "Webhook deliveries", a receiver that answered 410 Gone by mistake: notify deactivated the hook
(`xueji_webhooks_deactivated_total{reason="gone"}`) and dead-lettered the delivery; a replay skips it saying to
activate the hook first; the owner activates it (`POST /v1/webhooks/<webhook_id>/activate`) and the replay delivers."""

from __future__ import annotations

from typing import Any

import notify_events as ev
import pytest
from runbook_support import metric_value

from xueji_notify.app import create_app
from xueji_notify.settings import NotifySettings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]
CONSENT = "闽教基〔2026〕12号"


async def test_a_hook_ended_by_a_mistaken_410_is_activated_and_its_delivery_replayed(
    start_app, isolation, operator, receiver, token, wait_for
):
    hooks = await receiver({"/school": ["410"]})
    notify = await start_app(
        create_app, NotifySettings, webhook_ca_file=receiver.cert, webhook_backoff_seconds=0.3,
        webhook_backoff_cap_seconds=2, webhook_timeout_seconds=1.0, webhook_tick_seconds=0.1, webhook_max_attempts=2,
    )  # fmt: skip
    database = notify.app.state.runtime.db.name
    owner = {"Authorization": f"Bearer {token('school', ev.SCHOOL)}"}
    body = {"url": f"{hooks.base_url}/school", "consent_reference": CONSENT}
    answer = await notify.post("/v1/webhooks", json=body, headers=owner)
    assert answer.status_code == 201, answer.text
    hook = answer.json()
    hooks.secrets["/school"] = hook["secret"]
    gone_before = await metric_value(notify, "xueji_webhooks_deactivated_total", reason="gone")
    async with ev.Upstream(isolation) as upstream:
        await upstream.send(ev.opened(ev.transfer_id()))

    async def deactivated() -> dict[str, Any] | None:
        listed = (await notify.get("/v1/webhooks", headers=owner)).json()
        found = [h for h in (listed.get("webhooks", listed) if isinstance(listed, dict) else listed)
                 if h["webhook_id"] == hook["webhook_id"]]  # fmt: skip
        return found[0] if found and found[0]["active"] is False else None

    shown = await wait_for(deactivated, timeout=60)
    assert shown["deactivated_reason"] == "the receiver answered 410 Gone"
    assert await metric_value(notify, "xueji_webhooks_deactivated_total", reason="gone") == gone_before + 1

    async def letter() -> str:
        ran = await operator(database, "xueji_notify.webhook_dlq", "list", "--hook", hook["webhook_id"])
        assert ran.returncode == 0, ran.stderr
        return ran.stdout if "now failed" in ran.stdout else ""

    await wait_for(letter, timeout=60, interval=1)
    skipped = await operator(database, "xueji_notify.webhook_dlq", "replay", "--hook", hook["webhook_id"])
    assert skipped.returncode == 0, skipped.stderr
    assert "the webhook is deactivated (the receiver answered 410 Gone); activate it first" in skipped.stdout

    hooks.script["/school"] = ["ok"]  # the subscriber fixed the receiver; the owner activates the hook
    activated = await notify.post(f"/v1/webhooks/{hook['webhook_id']}/activate", headers=owner)
    assert activated.status_code == 200, activated.text
    replayed = await operator(database, "xueji_notify.webhook_dlq", "replay", "--hook", hook["webhook_id"])
    assert replayed.returncode == 0 and "replayed " in replayed.stdout, (replayed.stdout, replayed.stderr)

    async def delivered() -> dict[str, Any] | None:
        path = f"/v1/webhooks/{hook['webhook_id']}/deliveries"
        found = (await notify.get(path, headers=owner)).json()["deliveries"]
        return found[0] if found and found[0]["state"] == "delivered" else None

    done = await wait_for(delivered, timeout=60)
    assert [a["status"] for a in done["attempts"]][-1] == 200
    assert hooks.applied == {done["delivery_id"]: 1}

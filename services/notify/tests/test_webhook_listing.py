"""R50: `GET /v1/webhooks` and the answers about one hook show what its owner registered and its state, never the
signing secret nor notify's own bookkeeping (the `activation` id an attempt is judged by, domain.webhooks)."""

from __future__ import annotations

import pytest

from xueji_notify.app import create_app
from xueji_notify.settings import NotifySettings

pytestmark = pytest.mark.integration
COUNTY = "350602"
SHOWN = {
    "webhook_id", "jurisdiction", "scope", "url", "kinds", "description", "active", "consent_reference",
    "created_by", "created_at", "activated_at", "activated_by",
}  # fmt: skip


async def test_r50_a_listed_hook_activated_again_shows_no_secret_and_no_internal_activation_id(start_app, token):
    notify = await start_app(create_app, NotifySettings)
    county = {"Authorization": f"Bearer {token('county', COUNTY)}"}
    body = {"url": "https://example.org/hook", "consent_reference": "闽教基〔2026〕12号"}
    made = (await notify.post("/v1/webhooks", json=body, headers=county)).json()
    path = f"/v1/webhooks/{made['webhook_id']}"
    assert (await notify.delete(path, headers=county)).status_code == 204
    stopped = (await notify.get("/v1/webhooks", headers=county)).json()["webhooks"][0]
    assert set(stopped) == SHOWN - {"activated_at", "activated_by"} | {"deactivated_at", "deactivated_reason"}
    again = await notify.post(f"{path}/activate", headers=county)
    assert again.status_code == 200, again.text
    assert set(again.json()) == SHOWN
    [listed] = (await notify.get("/v1/webhooks", headers=county)).json()["webhooks"]
    assert set(listed) == SHOWN and listed["active"] is True

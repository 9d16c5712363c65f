"""Idempotency-Key on notify's writes (issue 15, defect 6; IETF httpapi Idempotency-Key draft), over the real store:
a retried webhook registration is one registration with the first answer (the same id and signing secret, R52
consent recorded once), and the same key with another registration is refused with 422 naming the header."""

from __future__ import annotations

import pytest

from xueji_notify.app import create_app
from xueji_notify.settings import NotifySettings

pytestmark = pytest.mark.integration
COUNTY = "350602"
CONSENT = "闽教基〔2026〕12号"


async def test_r52_a_retried_webhook_registration_is_one_registration_with_the_first_answer(start_app, token):
    notify = await start_app(create_app, NotifySettings)
    keyed = {"Authorization": f"Bearer {token('county', COUNTY)}", "Idempotency-Key": "hook-1"}
    body = {"url": "https://example.org/hook", "consent_reference": CONSENT}
    first = await notify.post("/v1/webhooks", json=body, headers=keyed)
    retry = await notify.post("/v1/webhooks", json=body, headers=keyed)
    assert first.status_code == 201, first.text
    assert (retry.status_code, retry.json()) == (201, first.json())

    other = await notify.post("/v1/webhooks", json={**body, "url": "https://example.org/other"}, headers=keyed)
    assert other.status_code == 422, other.text
    assert other.json()["detail"][0]["field"] == "Idempotency-Key"
    listed = (await notify.get("/v1/webhooks", headers=keyed)).json()["webhooks"]
    assert [w["webhook_id"] for w in listed] == [first.json()["webhook_id"]]

    # The stored answer gone (as if a crash lost it after the registration): the registration is still found once.
    await notify.app.state.runtime.db["idempotency_keys"].delete_many({})
    after_crash = await notify.post("/v1/webhooks", json=body, headers=keyed)
    assert after_crash.status_code == 201, after_crash.text
    assert (after_crash.json()["webhook_id"], after_crash.json()["secret"]) == (
        first.json()["webhook_id"],
        first.json()["secret"],
    )
    assert len((await notify.get("/v1/webhooks", headers=keyed)).json()["webhooks"]) == 1

"""Webhooks over real HTTPS on loopback: signed, retried with backoff and jitter, applied once, dead-lettered."""

from __future__ import annotations

import asyncio
import itertools
import json

import notify_events as ev
import pytest
from aiokafka import AIOKafkaConsumer
from prometheus_client import REGISTRY

from xueji_contracts.messages.notify import WebhookDeliveryFailed
from xueji_contracts.topics import NOTIFY_WEBHOOK_DLQ
from xueji_notify.app import create_app
from xueji_notify.settings import NotifySettings

pytestmark = pytest.mark.integration
BASE = 0.4


async def _notify(start_app, cert, **overrides):
    settings = {"webhook_ca_file": cert, "webhook_backoff_seconds": BASE, "webhook_backoff_cap_seconds": 5,
                "webhook_timeout_seconds": 1.0, "webhook_tick_seconds": 0.1, **overrides}  # fmt: skip
    return await start_app(create_app, NotifySettings, **settings)


CONSENT = "闽教基〔2026〕12号"  # the competent bureau's written consent (R52)


async def _register(notify, token, url: str, **extra) -> dict:
    body = {"url": url, "consent_reference": CONSENT, **extra}
    answer = await notify.post("/v1/webhooks", json=body, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 201, answer.text
    return answer.json()


async def school_hooks(start_app, receiver, token, script: dict[str, list[str]], **settings) -> tuple:
    """A receiver answering by `script`, notify delivering to it, and a school's hook registered for each path in
    it: (receiver, notify, the school's headers, {path: hook as registered})."""
    hooks = await receiver(script)
    notify = await _notify(start_app, receiver.cert, **settings)
    owner = token("school", ev.SCHOOL)
    registered = {path: await _register(notify, owner, f"{hooks.base_url}{path}") for path in script}
    hooks.secrets |= {path: hook["secret"] for path, hook in registered.items()}
    return hooks, notify, {"Authorization": f"Bearer {owner}"}, registered


async def dead_letters(isolation, count: int) -> list[dict]:
    """The first `count` letters on notify.webhook.dlq (envelopes), read from its beginning."""
    consumer = AIOKafkaConsumer(isolation.topic(NOTIFY_WEBHOOK_DLQ.name), bootstrap_servers=isolation.servers.kafka,
                                auto_offset_reset="earliest")  # fmt: skip
    await consumer.start()
    try:
        letters: list[dict] = []
        async with asyncio.timeout(40):
            while len(letters) < count:
                for records in (await consumer.getmany(timeout_ms=1000)).values():
                    letters += [json.loads(r.value) for r in records]
        return letters
    finally:
        await consumer.stop()


def _delivered_total() -> float:
    return REGISTRY.get_sample_value("xueji_webhook_deliveries_total", {"outcome": "delivered"}) or 0.0


async def test_r22_delivery_is_signed_retried_with_backoff_and_applied_exactly_once(
    start_app, isolation, token, wait_for, receiver
):
    hooks = await receiver({"/county": ["fail", "500", "slow", "ok"]})
    notify = await _notify(start_app, receiver.cert, webhook_max_attempts=6)
    county = token("county", ev.COUNTY)
    hook = await _register(notify, county, f"{hooks.base_url}/county", kinds=["stage_opened"])
    hooks.secrets["/county"] = hook["secret"]
    delivered_before = _delivered_total()

    opened = ev.opened(ev.transfer_id())
    async with ev.Upstream(isolation) as upstream:
        await upstream.send(opened, opened)  # redelivered: still one notification, one delivery
        await upstream.send(ev.opened(ev.transfer_id(), ev.FAR_SCHOOL))  # another county's: not ours
        await upstream.send(ev.warning(opened.payload.transfer_id, opened.payload.deadline.due_at))  # other kind

    path = f"/v1/webhooks/{hook['webhook_id']}/deliveries"

    async def delivered():
        body = (await notify.get(path, headers={"Authorization": f"Bearer {county}"})).json()
        return body["deliveries"] if body["deliveries"] and body["deliveries"][0]["state"] == "delivered" else None

    [delivery] = await wait_for(delivered, timeout=40)
    assert [a["status"] for a in delivery["attempts"]] == [503, 500, None, 200]
    assert "Timeout" in delivery["attempts"][2]["error"]
    # The receiver saw four requests for one delivery id, every one correctly signed, and applied it once.
    assert {r.delivery_id for r in hooks.received} == {delivery["delivery_id"]}
    assert len(hooks.received) == 4 and all(r.valid_signature for r in hooks.received)
    assert {r.consent for r in hooks.received} == {CONSENT}  # R52: every delivery names the consent it rests on
    assert hooks.applied == {delivery["delivery_id"]: 1}
    body = hooks.received[0].body
    assert body["subject_id"] == opened.payload.transfer_id and body["kind"] == "stage_opened"
    assert body["title_zh"].startswith("转学待办") and body["jurisdiction"] == ev.SCHOOL
    # Exponential backoff with equal jitter: each wait at least half its step (BASE * 2^n), growing.
    starts = [r.at for r in hooks.received]
    waits = [b - a for a, b in itertools.pairwise(starts)]
    assert waits[0] >= BASE / 2 - 0.05 and waits[1] >= BASE - 0.05, waits
    assert waits[2] >= 1.0 + 2 * BASE - 0.1, waits  # the 1 s timeout, then at least half of 4 x BASE
    assert _delivered_total() == delivered_before + 1


async def test_r22_failing_endpoint_is_recorded_failed_and_dead_lettered(
    start_app, isolation, token, wait_for, receiver
):
    script = {"/down": ["fail"], "/gone": ["410"]}
    hooks, notify, school, registered = await school_hooks(start_app, receiver, token, script, webhook_max_attempts=3)
    down, gone = registered["/down"], registered["/gone"]
    async with ev.Upstream(isolation) as upstream:
        await upstream.send(ev.opened(ev.transfer_id()))

    letters = await dead_letters(isolation, 2)
    failed = {
        letter["payload"]["webhook_id"]: WebhookDeliveryFailed.model_validate(letter["payload"]) for letter in letters
    }
    assert failed[down["webhook_id"]].attempts == 3 and failed[down["webhook_id"]].last_status == 503
    assert failed[gone["webhook_id"]].attempts == 1 and failed[gone["webhook_id"]].last_status == 410  # not retried
    assert all(letter["type"] == "WebhookDeliveryFailed" for letter in letters)
    assert sum(1 for r in hooks.received if r.delivery_id == failed[down["webhook_id"]].delivery_id) == 3
    listed = (await notify.get(f"/v1/webhooks/{down['webhook_id']}/deliveries",
                               headers=school)).json()["deliveries"]  # fmt: skip
    assert listed[0]["state"] == "failed"


async def test_r50_r52_registration_needs_https_the_jurisdiction_and_the_bureaus_consent(start_app, token):
    notify = await start_app(create_app, NotifySettings)
    county = token("county", ev.COUNTY)
    plain = await notify.post("/v1/webhooks", json={"url": "http://example.org/hook", "consent_reference": CONSENT},
                              headers={"Authorization": f"Bearer {county}"})  # fmt: skip
    assert plain.status_code == 422 and plain.json()["detail"][0] == {
        "field": "url",
        "reason": "must be an https:// URL",
        "in": "body",
    }
    unconsented = await notify.post("/v1/webhooks", json={"url": "https://example.org/h"},
                                    headers={"Authorization": f"Bearer {county}"})  # fmt: skip
    assert unconsented.status_code == 422
    assert unconsented.json()["detail"][0]["field"] == "consent_reference"  # R52: no consent, nothing goes out
    other = await notify.post("/v1/webhooks", json={"url": "https://example.org/h", "jurisdiction": ev.FAR_COUNTY,
                                                    "consent_reference": CONSENT},
                              headers={"Authorization": f"Bearer {county}"})  # fmt: skip
    assert other.status_code == 403
    made = await _register(notify, county, "https://example.org/h", jurisdiction=ev.SCHOOL)
    listed = (await notify.get("/v1/webhooks", headers={"Authorization": f"Bearer {county}"})).json()["webhooks"]
    assert [w["webhook_id"] for w in listed] == [made["webhook_id"]] and "secret" not in listed[0]
    assert listed[0]["consent_reference"] == CONSENT
    far = await notify.get("/v1/webhooks", headers={"Authorization": f"Bearer {token('county', ev.FAR_COUNTY)}"})
    assert far.json()["webhooks"] == []
    gone = await notify.delete(f"/v1/webhooks/{made['webhook_id']}", headers={"Authorization": f"Bearer {county}"})
    assert gone.status_code == 204


async def test_r22_titles_name_the_schools_alike_in_the_inbox_and_webhooks(
    start_app, isolation, token, wait_for, receiver, tmp_path, status_recorded
):
    """Issue 18: notify names schools as "<name>（<code>）" from the registry's directory file in the titles it stores,
    so a webhook subscriber reads what the inbox shows; a school the directory lacks keeps its code."""
    from xueji_contracts.messages.status import StatusBefore, StudentStatusRecorded

    directory = tmp_path / "schools.csv"
    directory.write_text(f"学校代码,学校名称\n{ev.SCHOOL},芗城实验小学\n3506020003,芗城第三小学\n", encoding="utf-8")
    hooks = await receiver({"/county": ["ok"]})
    notify = await _notify(start_app, receiver.cert, school_directory_file=directory)
    county = token("county", ev.COUNTY)
    hook = await _register(notify, county, f"{hooks.base_url}/county", kinds=["stage_opened", "stage_escalated"])
    hooks.secrets["/county"] = hook["secret"]
    tid = ev.transfer_id()
    opened = ev.opened(tid, ev.COUNTY, stage="receiving_bureau", step=4)
    before = StatusBefore(state="enrolled", school_code=ev.OTHER_SCHOOL, county_code=ev.COUNTY, grade=3,
                          status_number_masked="G110105********002X")  # fmt: skip
    moved = StudentStatusRecorded.model_validate(status_recorded(student_id=f"stu_{tid}").model_dump() | {
        "change": "transferred_in", "before": before, "school_code": "3506020003"})  # fmt: skip
    async with ev.Upstream(isolation) as upstream:
        await upstream.send(opened, ev.breached(tid, opened.payload.deadline.due_at, ev.SCHOOL, to=ev.COUNTY))
        await upstream.send(ev._wrap(moved))

    async def inbox():
        body = (await notify.get("/v1/inbox", headers={"Authorization": f"Bearer {county}"})).json()
        kinds = {n["kind"]: n for n in body["notifications"] if n["subject_id"] in (tid, f"stu_{tid}")}
        wanted = {"stage_opened", "stage_escalated", "status_recorded"}
        return kinds if wanted <= set(kinds) and len(hooks.received) >= 2 else None

    notes = await wait_for(inbox, timeout=40)
    assert notes["stage_opened"]["title_zh"].startswith(
        f"转学待办：转入地县级教育行政部门审核（第4步，{ev.FAR_SCHOOL} 转往 芗城实验小学（{ev.SCHOOL}））"
    )
    assert f"{ev.FAR_SCHOOL} to 芗城实验小学 ({ev.SCHOOL})" in notes["stage_opened"]["title_en"]
    assert notes["stage_escalated"]["title_zh"].startswith(
        f"超期升级：芗城实验小学（{ev.SCHOOL}） 的转入学校审核已超期"
    )
    assert f"at 芗城实验小学 ({ev.SCHOOL}) is overdue" in notes["stage_escalated"]["title_en"]
    left = notes["status_recorded"]  # the school left (no name in the directory) hears where the pupil went
    assert left["jurisdiction"] == ev.OTHER_SCHOOL and left["title_zh"].endswith("转入 芗城第三小学（3506020003）")
    assert left["title_en"].endswith("now at 芗城第三小学 (3506020003)")
    delivered = {r.body["kind"]: r.body for r in hooks.received}
    for kind in ("stage_opened", "stage_escalated"):
        assert (delivered[kind]["title_zh"], delivered[kind]["title_en"]) == (
            notes[kind]["title_zh"], notes[kind]["title_en"])  # fmt: skip


def _deactivated_total() -> float:
    return REGISTRY.get_sample_value("xueji_webhooks_deactivated_total", {"reason": "gone"}) or 0.0


async def test_r22_a_receiver_answering_410_gone_deactivates_its_hook_until_the_owner_activates_it_again(
    start_app, isolation, token, wait_for, receiver
):
    """410 Gone says the subscription ended for good: the hook is deactivated (listed with why and when), nothing
    more is delivered to it, and its owner may activate it again; a 503 on a hook beside it keeps retrying."""
    script = {"/gone": ["410"], "/flaky": ["fail", "ok"]}
    hooks, notify, school, registered = await school_hooks(start_app, receiver, token, script, webhook_max_attempts=3)
    gone, flaky = registered["/gone"], registered["/flaky"]
    deactivated_before = _deactivated_total()

    async def listed() -> dict:
        body = (await notify.get("/v1/webhooks", headers=school)).json()
        return {w["webhook_id"]: w for w in body["webhooks"]}

    async def deliveries(hook: dict) -> list:
        path = f"/v1/webhooks/{hook['webhook_id']}/deliveries"
        return (await notify.get(path, headers=school)).json()["deliveries"]

    async with ev.Upstream(isolation) as upstream:
        await upstream.send(ev.opened(ev.transfer_id()))

    async def gone_listed():
        hook = (await listed())[gone["webhook_id"]]
        return hook if not hook["active"] else None

    hook = await wait_for(gone_listed, timeout=40)
    assert hook["deactivated_reason"] == "the receiver answered 410 Gone" and hook["deactivated_at"]
    # Counted once the hook's scope is pruned of it, a few store round trips after the hook is listed stopped.
    await wait_for(lambda: _deactivated_total() == deactivated_before + 1, timeout=10)
    [first] = await deliveries(gone)
    assert [a["status"] for a in first["attempts"]] == [410]  # not retried

    async with ev.Upstream(isolation) as upstream:
        await upstream.send(ev.opened(ev.transfer_id()))

    async def flaky_got_both():
        done = [d for d in await deliveries(flaky) if d["state"] == "delivered"]
        return done if len(done) == 2 else None

    await wait_for(flaky_got_both, timeout=40)  # the 503 hook beside it retried and got both notifications
    assert len(await deliveries(gone)) == 1, "nothing more is delivered to a gone hook"
    assert sum(1 for r in hooks.received if r.delivery_id == first["delivery_id"]) == 1

    outsider = {"Authorization": f"Bearer {token('school', ev.FAR_SCHOOL)}"}
    path = f"/v1/webhooks/{gone['webhook_id']}/activate"
    assert (await notify.post(path, headers=outsider)).status_code == 404
    again = await notify.post(path, headers=school)
    assert again.status_code == 200, again.text
    assert again.json()["active"] is True and "deactivated_reason" not in again.json()
    assert "secret" not in again.json()
    assert (await listed())[gone["webhook_id"]]["active"] is True

    hooks.script["/gone"] = ["ok"]  # the receiver's owner set it up again
    async with ev.Upstream(isolation) as upstream:
        await upstream.send(ev.opened(ev.transfer_id()))

    async def delivered_again():
        done = [d for d in await deliveries(gone) if d["state"] == "delivered"]
        return done or None

    await wait_for(delivered_again, timeout=40)

"""The offline-acceptance path on the real servers (R23): by timeout or declared failure, then reconciled."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from kafka_messages import published
from transfer_driver import RECEIVING, day, evidence, of_type, start

pytestmark = pytest.mark.integration
MONDAY = day(date(2025, 3, 10))


async def test_r23_offline_path_opens_after_20_working_days_and_reconciles_when_the_system_completes(
    start_app, token, isolation
):
    t = await start(start_app, token, MONDAY)
    tid = await t.apply()
    await t.examine(tid)
    await t.approve(tid, "receiving_school", "receiving_bureau")
    offline = next(x for x in (await t.detail(tid))["armed_timers"] if x["kind"] == "offline")
    offline_due = datetime.fromisoformat(offline["due_at"])
    assert offline_due == day(date(2025, 4, 9), 0)  # 24:00 of the 20th working day after 10 March: Tue 8 April
    # (Qingming, Friday 4 April, is a holiday)

    await t.advance_to(offline_due + timedelta(hours=1))
    assert [i["action"] for i in await t.inbox("350602")] == ["sign_offline_consent"]
    early = await t.call("POST", f"/v1/transfers/{tid}/offline/acceptance", ("school", RECEIVING), {})
    assert early.status_code == 409 and early.json()["rule"] == "R23"
    form = {"signed_form": evidence("signed_registration_form")}
    # R23: the consent states its cause; one without is refused, naming the field.
    unstated = await t.call("POST", f"/v1/transfers/{tid}/offline/consent", ("county", "350602"), form)
    assert unstated.status_code == 422, unstated.text
    assert unstated.json()["rule"] == "R23" and unstated.json()["detail"][0]["field"] == "cause"
    form |= {"cause": "transmission_failure"}
    await t.ok("POST", f"/v1/transfers/{tid}/offline/consent", ("county", "350602"), form)
    accept = {"record": {"class": "3", "grade": "4"}}
    await t.ok("POST", f"/v1/transfers/{tid}/offline/acceptance", ("school", RECEIVING), accept)

    # The system path completes later: the sending side verifies, the student reports, the records reconcile.
    await t.approve(tid, "sending_school", "sending_bureau")
    await t.ok("POST", f"/v1/transfers/{tid}/notify-to-report", ("school", RECEIVING))
    report = {"electronic_file": evidence("electronic_file"), "system_record": {"class": "4", "grade": "4"}}
    case = await t.ok("POST", f"/v1/transfers/{tid}/report", ("school", RECEIVING), report)
    assert (case["phase"], case["offline"]) == ("completed", "reconciled")

    messages = await published(
        isolation.servers.kafka,
        isolation.topic("transfer.case.v1"),
        lambda ms: "reconciled" in [m["outcome"] for m in of_type(ms, "TransferCaseChanged", tid)],
    )
    changes = of_type(messages, "TransferCaseChanged", tid)
    outcomes = [m["outcome"] for m in changes]
    assert outcomes == ["opened", "offline_opened", "offline_accepted", "completed", "reconciled"]
    assert changes[1]["reason"] == "timeout"
    assert changes[-1]["reason"] == "system record prevails; differed: class"


async def test_r23_declared_system_failure_opens_the_path_only_at_the_guardians_request(start_app, token, isolation):
    t = await start(start_app, token, MONDAY)
    tid = await t.apply()
    path = f"/v1/transfers/{tid}/offline/system-failure"
    body = {"description": "provincial platform down since Monday", "guardian_requested": False}
    refused = await t.call("POST", path, ("school", RECEIVING), body)
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"][0]["field"] == "guardian_requested" and refused.json()["rule"] == "R23"
    outsider = await t.call("POST", path, ("school", "3501020003"), {**body, "guardian_requested": True})
    assert outsider.status_code == 403
    case = await t.ok("POST", path, ("county", "350602"), {**body, "guardian_requested": True})
    assert case["offline"] == "open"
    messages = await published(
        isolation.servers.kafka,
        isolation.topic("transfer.case.v1"),
        lambda ms: len(of_type(ms, "TransferCaseChanged", tid)) == 2,
    )
    assert of_type(messages, "TransferCaseChanged", tid)[1]["reason"].startswith("system_failure: provincial")

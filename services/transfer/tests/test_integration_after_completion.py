"""After step 8 on the real servers: the paper file deadline (R32) and a graduate's rollback (R33)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from kafka_messages import published
from transfer_driver import RECEIVING, SENDING, application, day, of_type, start

pytestmark = pytest.mark.integration


async def test_r32_paper_file_overdue_is_flagged_to_the_sending_county_until_sent(start_app, token, isolation):
    t = await start(start_app, token, day(date(2025, 3, 10)))
    tid = await t.apply()
    case = await t.complete(tid)
    assert datetime.fromisoformat(case["paper_file_due_at"]) == day(date(2025, 4, 11), 0)  # 1 month: 10 April
    await t.advance_to(day(date(2025, 4, 11), 1))
    assert [i["action"] for i in await t.inbox("350102")] == ["chase_paper_file"]
    assert [i["action"] for i in await t.inbox(SENDING)] == ["send_paper_file"]
    await t.ok("POST", f"/v1/transfers/{tid}/paper-file", ("school", SENDING), {"method": "mailed"})
    assert await t.inbox("350102") == [] and await t.inbox(SENDING) == []
    messages = await published(
        isolation.servers.kafka,
        isolation.topic("transfer.case.v1"),
        lambda ms: "paper_file_overdue" in [m["outcome"] for m in of_type(ms, "TransferCaseChanged", tid)],
    )
    (overdue,) = [m for m in of_type(messages, "TransferCaseChanged", tid) if m["outcome"] == "paper_file_overdue"]
    assert overdue["reason"].endswith("flagged to 350102")


async def test_r33_county_office_rolls_back_a_graduates_mistaken_transfer_and_is_named(start_app, token, isolation):
    t = await start(start_app, token, day(date(2025, 9, 1)))
    graduate = application(
        kind="progression", status="graduated", graduated_on="2025-07-01", grade=6, target_grade=7, term=None
    )
    tid = await t.apply(graduate)
    await t.complete(tid)
    t.clock.now += timedelta(days=30)
    body = {"reason": "enrolled at the wrong school by mistake"}
    by_school = await t.call("POST", f"/v1/transfers/{tid}/rollback", ("school", RECEIVING), body)
    assert by_school.status_code == 403 and by_school.json()["rule"] == "R33"
    case = await t.ok("POST", f"/v1/transfers/{tid}/rollback", ("county", "350602"), body)
    assert case["phase"] == "rolled_back"
    (rolled,) = [e for e in (await t.detail(tid))["history"] if e["type"] == "transfer_rolled_back"]
    assert rolled["operated_by"]["code"] == "350602" and rolled["back_to_school"] == SENDING
    messages = await published(
        isolation.servers.kafka,
        isolation.topic("transfer.case.v1"),
        lambda ms: "rolled_back" in [m["outcome"] for m in of_type(ms, "TransferCaseChanged", tid)],
    )
    outcomes = of_type(messages, "TransferCaseChanged", tid)
    assert outcomes[-1]["reason"] == body["reason"]
    # The registry learns it is a graduate's progression, and the grade entered at the receiving school (R07).
    (completed,) = [m for m in outcomes if m["outcome"] == "completed"]
    assert (completed["kind"], completed["target_grade"], outcomes[-1]["kind"]) == ("progression", 7, "progression")

"""Readable case numbers beside the internal id: unique in the province under concurrent applications, kept by a
retried application, and a case can be read by its number (issue 18; R50 still applies)."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest
from kafka_messages import published
from transfer_driver import RECEIVING, application, day, of_type, start

pytestmark = pytest.mark.integration
MONDAY = day(date(2025, 3, 10))


async def test_r21_concurrent_applications_get_distinct_consecutive_case_numbers(start_app, token):
    t = await start(start_app, token, MONDAY)

    for n in range(6):
        await t.known(f"stu_number_{n}")
    await t.known("stu_number_retry")

    async def apply(n: int) -> dict:
        body = {"application": application(student_id=f"stu_number_{n}")}
        return await t.ok("POST", "/v1/transfers", ("school", RECEIVING), body)

    cases = await asyncio.gather(*(apply(n) for n in range(6)))
    numbers = sorted(c["case_number"] for c in cases)
    assert numbers == [f"ZX-350602-2025-{n:06d}" for n in range(1, 7)]

    # A retried application (same Idempotency-Key) is the same case with the same number.
    body = {"application": application(student_id="stu_number_retry")}
    headers = {"Idempotency-Key": "retry-1"}
    first = await t.ok("POST", "/v1/transfers", ("school", RECEIVING), body, headers=headers)
    again = await t.ok("POST", "/v1/transfers", ("school", RECEIVING), body, headers=headers)
    assert (again["transfer_id"], again["case_number"]) == (first["transfer_id"], "ZX-350602-2025-000007")

    # Read by number; the detail and the inbox show it beside the internal id.
    detail = await t.ok("GET", f"/v1/transfers/{first['case_number']}", ("county", "350602"))
    assert (detail["transfer_id"], detail["case_number"]) == (first["transfer_id"], first["case_number"])
    assert {i["case_number"] for i in await t.inbox(RECEIVING)} >= set(numbers)
    outside = await t.call("GET", f"/v1/transfers/{first['case_number']}", ("county", "350203"))
    assert outside.status_code == 404  # outside the jurisdiction: the same answer as a missing case (R50)


async def test_r22_every_case_message_carries_the_case_number_from_the_application_on(start_app, token, isolation):
    """The dashboard learns cases from Kafka: the number travels on stage, SLA and case messages (additive field)."""
    t = await start(start_app, token, MONDAY)
    await t.known("stu_number_events")
    applied = await t.ok(
        "POST", "/v1/transfers", ("school", RECEIVING), {"application": application(student_id="stu_number_events")}
    )
    tid, number = applied["transfer_id"], applied["case_number"]
    assert number.startswith("ZX-350602-2025-")
    await t.examine(tid)
    await t.decide(tid, "receiving_school")
    stage_messages = await published(
        isolation.servers.kafka,
        isolation.topic("transfer.stage.v1"),
        lambda ms: len(of_type(ms, "StageOpened", tid)) >= 2 and of_type(ms, "StageClosed", tid),
    )
    mine = [*of_type(stage_messages, "StageOpened", tid), *of_type(stage_messages, "StageClosed", tid)]
    assert {m["case_number"] for m in mine} == {number}
    case_messages = await published(
        isolation.servers.kafka, isolation.topic("transfer.case.v1"), lambda ms: of_type(ms, "TransferCaseChanged", tid)
    )
    assert {m["case_number"] for m in of_type(case_messages, "TransferCaseChanged", tid)} == {number}
    assert (await t.detail(tid))["case"]["case_number"] == number


async def test_r22_a_case_applied_before_numbers_existed_is_numbered_on_first_read_once(start_app, token):
    """Older cases have no number: the first read (detail or inbox) gives one in the case's county and year; reads at
    the same time agree, later reads change nothing, and the number is unique beside newer cases and reads back."""
    t = await start(start_app, token, MONDAY)
    await t.known("stu_old_case")
    await t.known("stu_new_case")
    old = await t.ok(
        "POST", "/v1/transfers", ("school", RECEIVING), {"application": application(student_id="stu_old_case")}
    )
    numbers = t.app.state.case_numbers.collection
    # As a case recorded before case numbers: no claim, no number document.
    await numbers.delete_many({"$or": [{"_id": f"case:{old['transfer_id']}"}, {"transfer_id": old["transfer_id"]}]})
    new = await t.ok(
        "POST", "/v1/transfers", ("school", RECEIVING), {"application": application(student_id="stu_new_case")}
    )

    reads = await asyncio.gather(
        *(t.ok("GET", f"/v1/transfers/{old['transfer_id']}", ("county", "350602")) for _ in range(3)),
        t.inbox(RECEIVING),
    )
    given = {r["case_number"] for r in reads[:3]}
    assert len(given) == 1 and None not in given
    (number,) = given
    assert number.startswith("ZX-350602-2025-") and number != new["case_number"]
    assert {i["case_number"] for i in reads[3] if i["transfer_id"] == old["transfer_id"]} == {number}
    again = await t.ok("GET", f"/v1/transfers/{old['transfer_id']}", ("school", RECEIVING))
    assert again["case_number"] == number
    assert (await t.ok("GET", f"/v1/transfers/{number}", ("county", "350602")))["transfer_id"] == old["transfer_id"]
    assert await numbers.count_documents({"_id": f"case:{old['transfer_id']}"}) == 1  # one claim: one number


async def test_a_case_names_its_schools_from_the_provinces_directory(start_app, token, tmp_path):
    """Issue 18: school names, not only codes, in what transfer answers (the registry's directory file); a school the
    directory does not list is named null, its code still there."""
    from transfer_driver import SENDING

    directory = tmp_path / "schools.csv"
    directory.write_text(f"学校代码,学校名称\n{RECEIVING},漳州市实验小学\n", encoding="utf-8")
    t = await start(start_app, token, MONDAY, school_directory_file=directory)
    await t.known("stu_named")
    case = await t.ok(
        "POST", "/v1/transfers", ("school", RECEIVING), {"application": application(student_id="stu_named")}
    )
    assert (case["receiving_school"], case["receiving_school_name"]) == (RECEIVING, "漳州市实验小学")
    assert (case["sending_school"], case["sending_school_name"]) == (SENDING, None)
    detail = await t.ok("GET", f"/v1/transfers/{case['transfer_id']}", ("county", "350602"))
    assert detail["receiving_school_name"] == "漳州市实验小学"

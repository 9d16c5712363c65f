"""Exceptions to R27's "generally" on the real broker and store: refused by default naming the rule, excepted only
by the receiving county bureau as its own event on rules.exception.v1, never by a school, never for the grade."""

from __future__ import annotations

from datetime import date

import pytest
from kafka_messages import published
from transfer_driver import RECEIVING, SENDING, application, day, evidence, start

pytestmark = pytest.mark.integration
MONDAY = day(date(2025, 3, 10))  # the spring semester: the graduation grade's last one
GRADUATING = {"grade": 6, "target_grade": 6}


def exception(clause: str = "graduation_grade_last_semester", **changes: str) -> dict:
    return {
        "rule": "R27", "clause": clause, "student_id": "stu_demo_1", "receiving_school": RECEIVING,
        "reason": "监护人工作调动，学生须随迁", "evidence": [evidence("reason_proof")], **changes,
    }  # fmt: skip


async def test_r27_graduation_semester_refused_unless_county_exception(start_app, token, isolation):
    t = await start(start_app, token, MONDAY)
    await t.known(grade=6)
    await t.known("stu_other", grade=6)
    apply = ("POST", "/v1/transfers", ("school", RECEIVING))
    refused = await t.call(*apply, {"application": application(**GRADUATING)})
    assert refused.status_code == 422, refused.text
    assert refused.json()["rule"] == "R27" and refused.json()["detail"][0]["field"] == "application.term"
    assert "generally" in refused.json()["reason"]
    # Calling the spring semester the first does not take it out of R27: the semester is the day's.
    called_first = {"start": "2025-02-17", "end": "2025-07-04", "semester": 1}
    dodged = await t.call(*apply, {"application": application(**GRADUATING, term=called_first)})
    assert dodged.status_code == 422 and dodged.json()["detail"][0]["field"] == "application.term.semester"

    granted = await t.ok("POST", "/v1/exceptions", ("county", "350602"), exception())
    assert (granted["rule"], granted["clause"], granted["jurisdiction"]) == ("R27", "graduation_grade_last_semester",
                                                                              "350602")  # fmt: skip
    read = f"/v1/exceptions/{granted['exception_id']}"
    assert (await t.ok("GET", read, ("school", RECEIVING)))["reason"] == "监护人工作调动，学生须随迁"
    assert (await t.call("GET", read, ("county", "350603"))).status_code == 403  # R50
    body = {"application": application(**GRADUATING), "exception_ids": [granted["exception_id"]]}
    case = await t.ok(*apply, body)
    detail = await t.detail(case["transfer_id"])
    assert [e["exception_id"] for e in detail["case"]["exceptions"]] == [granted["exception_id"]]
    await t.examine(case["transfer_id"])
    await t.approve(case["transfer_id"], "receiving_school")  # step 3 re-checks the timing: still excepted

    # The absolute part takes no exception: no repeating a grade by transfer, and no clause to except it.
    repeat = {"application": application(grade=6, target_grade=5), "exception_ids": [granted["exception_id"]]}
    answer = await t.call(*apply, repeat)
    assert answer.status_code == 422 and answer.json()["detail"][0]["field"] == "application.target_grade"
    absolute = await t.call("POST", "/v1/exceptions", ("county", "350602"), exception("keeps_grade"))
    assert absolute.status_code == 422 and absolute.json()["detail"][0]["field"] == "clause"
    # An exception covers its student and clause only.
    other = {
        "application": application(student_id="stu_other", **GRADUATING),
        "exception_ids": [granted["exception_id"]],
    }
    assert (await t.call(*apply, other)).json()["rule"] == "R27"
    for bad in ({"reason": " "}, {"evidence": []}):
        unreasoned = await t.call("POST", "/v1/exceptions", ("county", "350602"), exception(**bad))
        assert unreasoned.status_code == 422 and unreasoned.json()["detail"][0]["field"] == next(iter(bad))

    # Its own event, for the semester audit (R51) and the dashboard.
    topic = isolation.topic("rules.exception.v1")
    messages = await published(isolation.servers.kafka, topic, lambda ms: len(ms) >= 1)
    (recorded,) = [m for m in messages if m["type"] == "RuleExceptionRecorded"]
    assert recorded["payload"] | {"occurred_at": None} == {
        "exception_id": granted["exception_id"], "rule": "R27", "clause": "graduation_grade_last_semester",
        "authority": "county", "jurisdiction": "350602", "operator": "t-county", "reason": "监护人工作调动，学生须随迁",
        "evidence": ["s3://materials/reason_proof"], "occurred_at": None, "subject_kind": "student",
        "subject_id": "stu_demo_1", "school_code": RECEIVING,
    }  # fmt: skip


async def test_r27_school_cannot_grant_exception(start_app, token):
    t = await start(start_app, token, MONDAY)
    await t.known(grade=6)
    for who in (("school", RECEIVING), ("school", SENDING), ("county", "350102"), ("city", "350600")):
        answer = await t.call("POST", "/v1/exceptions", who, exception())
        assert answer.status_code == 403, (who, answer.text)
        assert answer.json()["rule"] == "R27" and "receiving county bureau" in answer.json()["reason"]
    # Nor does an exception the sending county recorded for a school of its own open the receiving side's door.
    elsewhere = await t.ok("POST", "/v1/exceptions", ("county", "350102"), exception(receiving_school=SENDING))
    body = {"application": application(**GRADUATING), "exception_ids": [elsewhere["exception_id"]]}
    refused = await t.call("POST", "/v1/transfers", ("school", RECEIVING), body)
    assert refused.status_code == 422 and refused.json()["rule"] == "R27"
    assert refused.json()["detail"][0]["field"] == "exception_ids"
    unknown = {"application": application(**GRADUATING), "exception_ids": ["exc_" + "0" * 32]}
    missing = await t.call("POST", "/v1/transfers", ("school", RECEIVING), unknown)
    assert missing.status_code == 422 and missing.json()["detail"][0]["field"] == "exception_ids"

"""RULES "Exceptions" (R40) over HTTP, the real store and Kafka: a graduation-semester suspension is refused naming
R40; the school cannot record an exception; the county bureau can, as its own event, which the next request uses;
the exception travels on rules.exception.v1 and the R51 audit lists it (also one the transfer service published)."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaProducer
from http_fixtures import evidence_json as _evidence
from http_fixtures import graduation_semester, pupil, signed_in
from openpyxl import load_workbook

from xueji_contracts.envelope import envelop
from xueji_contracts.messages.exceptions import RuleExceptionRecorded
from xueji_contracts.topics import RULE_EXCEPTION
from xueji_registry.app import create_app
from xueji_registry.settings import RegistrySettings

pytestmark = pytest.mark.integration
SCHOOL = "3506020301"
PUPIL = pupil(SCHOOL, "郑可欣", "2014-04-02", 6)
GRADUATION_SEMESTER = graduation_semester()

_as = signed_in(SCHOOL)


async def test_r40_graduation_semester_suspension_refused_unless_county_exception_and_the_audit_lists_it(
    start_app, dedupe_stub, token, isolation, wait_for
):
    registry = await start_app(create_app, RegistrySettings, scheduler_enabled=False)
    async with dedupe_stub():
        created = await registry.post("/v1/students", json=PUPIL, headers=_as(token))
    assert created.status_code == 201, created.text
    student = created.json()["student_id"]
    county = _as(token, "county", "350602")
    suspend = {
        "reason": "因病休学",
        "evidence": [_evidence("suspension_application"), _evidence("medical_certificate")],
        "details": {"kind": "suspend", "cause": "illness", "term": GRADUATION_SEMESTER},
    }
    refused = await registry.post(f"/v1/students/{student}/changes", json=suspend, headers=_as(token))
    assert refused.status_code == 422, refused.text
    assert refused.json()["rule"] == "R40" and refused.json()["detail"][0]["field"] == "details.term"

    exception = {"rule": "R40", "clause": "graduation_semester", "reason": "重病住院，县教育局同意毕业学期休学",
                 "evidence": [_evidence("supporting_document")]}  # fmt: skip
    by_school = await registry.post(f"/v1/students/{student}/exceptions", json=exception, headers=_as(token))
    assert by_school.status_code == 403 and "R40" in by_school.text, by_school.text
    absolute = {**exception, "clause": "second_extension"}
    no_exception = await registry.post(f"/v1/students/{student}/exceptions", json=absolute, headers=county)
    assert no_exception.status_code == 422 and "absolute" in no_exception.json()["detail"][0]["reason"]
    bare = await registry.post(f"/v1/students/{student}/exceptions", json={**exception, "evidence": []}, headers=county)
    assert bare.status_code == 422  # evidence is required
    blank = await registry.post(
        f"/v1/students/{student}/exceptions", json={**exception, "reason": "   "}, headers=county
    )
    assert blank.status_code == 422 and blank.json()["detail"][0]["field"] == "reason"  # a written reason

    recorded = await registry.post(f"/v1/students/{student}/exceptions", json=exception, headers=county)
    assert recorded.status_code == 200, recorded.text
    exception_id = recorded.json()["exception_id"]

    asked = await registry.post(f"/v1/students/{student}/changes", json=suspend, headers=_as(token))
    assert asked.status_code == 200, asked.text
    (pending,) = asked.json()["pending_changes"]
    review = f"/v1/students/{student}/changes/{pending['change_id']}/review"
    approved = await registry.post(review, json={"approve": True, "reason": "依例外批准"}, headers=county)
    assert approved.status_code == 200 and approved.json()["state"] == "suspended", approved.text
    history = (await registry.get(f"/v1/students/{student}/history", headers=county)).json()["history"]
    entry = next(e for e in history if e["type"] == "exception_recorded")
    assert (entry["rule"], entry["clause"], entry["by"]["role"]) == ("R40", "graduation_semester", "county")
    assert history[-1]["type"] == "suspended" and history[-1]["exception_ids"] == [exception_id]

    # The transfer service publishes its R27 exceptions with the same payload; the audit lists both alike.
    r27 = RuleExceptionRecorded(
        exception_id="exc-tr-1", rule="R27", clause="graduation_grade_last_semester", authority="county",
        jurisdiction="350602", operator="county-7", reason="随父母工作调动", evidence=("doc://r27",),
        occurred_at=datetime.now(UTC), subject_kind="transfer", subject_id="tr-1", school_code="3506020302",
    )  # fmt: skip
    producer = AIOKafkaProducer(bootstrap_servers=isolation.servers.kafka)
    await producer.start()
    try:
        message = envelop(r27, producer="transfer", province="35", occurred_at=datetime.now(UTC))
        await producer.send_and_wait(isolation.topic(RULE_EXCEPTION.name), message.model_dump_json().encode(), b"tr-1")
    finally:
        await producer.stop()

    async def audited() -> dict | None:
        report = (await registry.get("/v1/audit", headers=county)).json()
        return report if len(report["exceptions"]) == 2 else None

    report = await wait_for(audited)
    ours = next(e for e in report["exceptions"] if e["rule"] == "R40")
    assert ours["exception_id"] == exception_id and ours["authority"] == "county" and ours["jurisdiction"] == "350602"
    assert ours["operator"] and ours["reason"].startswith("重病") and ours["evidence"] and ours["occurred_at"]
    assert report["exceptions_by_rule"] == {"R27": 1, "R40": 1}
    school_view = (await registry.get("/v1/audit", headers=_as(token))).json()
    assert [e["rule"] for e in school_view["exceptions"]] == ["R40"]  # a school sees those about itself
    other = (await registry.get("/v1/audit", headers=_as(token, "county", "350603"))).json()
    assert other["exceptions"] == []
    assert "id_number" not in json.dumps(report["exceptions"])
    sheet = await registry.get("/v1/audit.xlsx", headers=county)
    listed = list(load_workbook(io.BytesIO(sheet.content))["例外 exceptions"].iter_rows(values_only=True))
    assert listed[1][:3] == ("rule", "clause", "authority")
    assert sorted(row[0] for row in listed[2:]) == ["R27", "R40"]

"""R45 over HTTP, the real store and Kafka: a migrant child's absence dropout in compulsory education opens the file
hand-over on registry.compliance.v1 for the school's county bureau, naming the household-register county; the
bureau (not the school) records the hand-over, which meets it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from http_fixtures import enrolled, evidence_json, signed_in
from kafka_messages import published

from xueji_contracts.calendar.deadlines import local_date
from xueji_contracts.topics import REGISTRY_COMPLIANCE
from xueji_registry.app import create_app
from xueji_registry.settings import RegistrySettings

pytestmark = pytest.mark.integration
SCHOOL = "3506020001"
STUDENT = {"school_code": SCHOOL, "gender": "male", "birth_date": "2016-05-02", "grade": 4, "school_year": 2026}
HOUSEHOLD_COUNTY = "360702"

_as = signed_in(SCHOOL)


async def test_r45_the_county_bureau_hands_a_migrant_dropout_s_file_to_the_household_register_county(
    start_app, dedupe_stub, token, isolation
):
    registry = await start_app(create_app, RegistrySettings, scheduler_enabled=False)
    async with dedupe_stub():
        [student] = await enrolled(registry, _as(token), STUDENT, "吴小军")
    since = (local_date(datetime.now(UTC)) - timedelta(days=20)).isoformat()
    details = {"kind": "absence_dropout", "absent_since": since, "contact_attempts": 3,
               "migrant_household_county": HOUSEHOLD_COUNTY}  # fmt: skip
    report = {"reason": "无故缺课两周，多次联系未果", "details": details, "evidence": [evidence_json("contact_record")]}
    dropped = await registry.post(f"/v1/students/{student}/changes", json=report, headers=_as(token))
    assert dropped.status_code == 200 and dropped.json()["state"] == "dropped_out", dropped.text

    topic = isolation.topic(REGISTRY_COMPLIANCE.name)

    def handover(ms: list[dict]) -> list[dict]:
        return [m["payload"] for m in ms if m["payload"]["kind"] == "file_handover"]

    [opened] = handover(await published(isolation.servers.kafka, topic, lambda ms: bool(handover(ms))))
    assert (opened["state"], opened["rule"], opened["jurisdiction"]) == ("opened", "R45", "350602")
    assert (opened["subject_id"], opened["receiving_county"]) == (student, HOUSEHOLD_COUNTY)

    body = {"reason": "学籍档案已移交户籍所在地县教育局", "evidence": [evidence_json("supporting_document")]}
    path = f"/v1/students/{student}/file-handover"
    by_school = await registry.post(path, json=body, headers=_as(token))
    assert by_school.status_code == 403, by_school.text  # 002 III.13: the bureau hands the file over
    county = _as(token, "county", "350602")
    handed = await registry.post(path, json=body, headers=county)
    assert handed.status_code == 200, handed.text
    again = await registry.post(path, json=body, headers=county)
    assert again.status_code == 422 and "already handed over" in again.text

    messages = await published(isolation.servers.kafka, topic, lambda ms: len(handover(ms)) >= 2)
    assert [m["state"] for m in handover(messages)] == ["opened", "met"]
    history = (await registry.get(f"/v1/students/{student}/history", headers=county)).json()["history"]
    assert history[-1]["type"] == "file_handed_over" and history[-1]["receiving_county"] == HOUSEHOLD_COUNTY

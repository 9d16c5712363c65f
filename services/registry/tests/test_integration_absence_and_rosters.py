"""R45 absence reports and R54 annual rosters over the real broker and store: the deadlines are announced on
registry.compliance.v1, armed on the kit's timers, met by the school or flagged to the county when overdue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from http_fixtures import enrolled, signed_in
from kafka_messages import published
from registry_driver import advance_to

from xueji_contracts.calendar.deadlines import local_date
from xueji_contracts.topics import REGISTRY_COMPLIANCE
from xueji_registry.app import create_app
from xueji_registry.domain.periods import school_year_of
from xueji_registry.settings import RegistrySettings

pytestmark = pytest.mark.integration
SCHOOL = "3506020001"
STUDENT = {"school_code": SCHOOL, "gender": "male", "birth_date": "2018-05-02", "grade": 2, "school_year": 2026}

_as = signed_in(SCHOOL)


def _of(messages: list[dict], subject: str, kind: str) -> list[dict]:
    return [m["payload"] for m in messages if m["payload"]["subject_id"] == subject and m["payload"]["kind"] == kind]


async def test_r45_an_absence_must_be_reported_in_writing_or_the_county_hears_of_it(
    start_app, dedupe_stub, token, isolation
):
    registry = await start_app(create_app, RegistrySettings, scheduler_enabled=False)
    async with dedupe_stub():
        away_id, back_id = await enrolled(registry, _as(token), STUDENT, "陈一", "陈二")
    since = (local_date(datetime.now(UTC)) - timedelta(days=3)).isoformat()
    for student in (away_id, back_id):
        recorded = await registry.post(
            f"/v1/students/{student}/absence", json={"absent_since": since}, headers=_as(token)
        )
        assert recorded.status_code == 200, recorded.text
    twice = await registry.post(f"/v1/students/{away_id}/absence", json={"absent_since": since}, headers=_as(token))
    assert twice.status_code == 422 and twice.json()["detail"][0]["field"] == "absent_since"
    outsider = await registry.post(
        f"/v1/students/{away_id}/absence", json={"absent_since": since}, headers=_as(token, code="3506030001")
    )
    assert outsider.status_code == 404  # R50: another school's clerk hears what a missing record answers
    returned = await registry.post(
        f"/v1/students/{back_id}/absence/end", json={"returned_on": since}, headers=_as(token)
    )
    assert returned.status_code == 200, returned.text

    topic = isolation.topic(REGISTRY_COMPLIANCE.name)

    def both_opened(ms: list[dict]) -> bool:
        return bool(_of(ms, away_id, "absence_report")) and len(_of(ms, back_id, "absence_report")) >= 2

    opened = await published(isolation.servers.kafka, topic, both_opened)
    [first] = _of(opened, away_id, "absence_report")
    assert (first["state"], first["rule"], first["jurisdiction"]) == ("opened", "R45", SCHOOL)
    assert [m["state"] for m in _of(opened, back_id, "absence_report")] == ["opened", "met"]

    due = datetime.fromisoformat(first["due_at"])
    await advance_to(registry.app.state.compliance, due + timedelta(minutes=2))
    messages = await published(isolation.servers.kafka, topic, lambda ms: len(_of(ms, away_id, "absence_report")) >= 3)
    late = _of(messages, away_id, "absence_report")
    assert [m["state"] for m in late] == ["opened", "due_soon", "overdue"]
    assert late[-1]["flagged_to"] == "350602"  # R45: the county hears of an unreported absence
    assert len(_of(messages, back_id, "absence_report")) == 2  # the returned student's timers stay quiet

    history = await registry.get(f"/v1/students/{back_id}/history", headers=_as(token))
    assert [e["type"] for e in history.json()["history"]][-2:] == ["absence_recorded", "absence_ended"]


async def test_r54_the_first_enrollment_of_a_year_opens_the_school_s_rosters_which_the_school_submits_once(
    start_app, dedupe_stub, token, isolation
):
    registry = await start_app(create_app, RegistrySettings, scheduler_enabled=False)
    async with dedupe_stub():
        await enrolled(registry, _as(token), STUDENT, "黄一", "黄二")
    year = school_year_of(local_date(datetime.now(UTC)))
    subject = f"roster:{SCHOOL}:{year}"
    topic = isolation.topic(REGISTRY_COMPLIANCE.name)
    opened = await published(isolation.servers.kafka, topic, lambda ms: bool(_of(ms, subject, "annual_roster")))
    assert [m["state"] for m in _of(opened, subject, "annual_roster")] == ["opened"]  # once, not per student
    assert _of(opened, subject, "annual_roster")[0]["rule"] == "R54"

    path = f"/v1/rosters/annual/{SCHOOL}/{year}"
    roster = await registry.get(path, headers=_as(token, "county", "350602"))
    assert roster.status_code == 200, roster.text
    body = roster.json()
    assert sorted(line["name"] for line in body["new_students"]) == ["黄一", "黄二"]
    assert body["counts"]["new_students"] == 2 and body["submitted"] is None
    assert all("*" in line["status_number_masked"] for line in body["new_students"])  # R52
    assert (await registry.get(path, headers=_as(token, code="3506030001"))).status_code == 403

    by_county = await registry.post(f"{path}/submission", json={}, headers=_as(token, "county", "350602"))
    assert by_county.status_code == 403  # the school submits its own rosters
    submitted = await registry.post(f"{path}/submission", json={}, headers=_as(token))
    assert submitted.status_code == 201, submitted.text
    assert submitted.json()["counts"]["new_students"] == 2
    again = await registry.post(f"{path}/submission", json={}, headers=_as(token))
    assert again.status_code == 409 and again.json()["detail"]["rule"] == "R54"
    assert (await registry.get(path, headers=_as(token))).json()["submitted"]["counts"]["new_students"] == 2

    await advance_to(registry.app.state.compliance, datetime.now(UTC) + timedelta(days=400))

    def files_overdue(ms: list[dict]) -> bool:  # fired after the roster's timers, which are due earlier
        return sum(m["payload"]["kind"] == "status_file" and m["payload"]["state"] == "overdue" for m in ms) >= 2

    messages = await published(isolation.servers.kafka, topic, files_overdue)
    # Submitted: the timers were disarmed, so the overdue roster is never flagged.
    assert [m["state"] for m in _of(messages, subject, "annual_roster")] == ["opened", "met"]


async def test_r45_a_senior_high_absence_is_dropout_verified_by_the_county_and_not_retained(
    start_app, dedupe_stub, token
):
    """R45 as decided: every segment counts; senior high: the county bureau verifies, the status is not kept."""
    registry = await start_app(create_app, RegistrySettings, scheduler_enabled=False)
    senior_school = "3506020501"
    pupil = {"school_code": senior_school, "name": "黄子豪", "gender": "male", "birth_date": "2010-03-02",
             "grade": 10, "school_year": 2026, "segment": "senior"}  # fmt: skip
    school = _as(token, code=senior_school)
    async with dedupe_stub():
        created = await registry.post("/v1/students", json=pupil, headers=school)
    assert created.status_code == 201, created.text
    student = created.json()["student_id"]
    since = (local_date(datetime.now(UTC)) - timedelta(days=15)).isoformat()
    recorded = await registry.post(f"/v1/students/{student}/absence", json={"absent_since": since}, headers=school)
    assert recorded.status_code == 200, recorded.text
    report = {"reason": "无故缺课两周，多次联系未果", "details": {"kind": "absence_dropout", "absent_since": since,
              "contact_attempts": 3}, "evidence": [{"kind": "contact_record", "uri": "s3://e/contact.pdf",
              "sha256": "0" * 64}]}  # fmt: skip
    asked = await registry.post(f"/v1/students/{student}/changes", json=report, headers=school)
    assert asked.status_code == 200 and asked.json()["state"] == "enrolled", asked.text
    (pending,) = asked.json()["pending_changes"]
    review = f"/v1/students/{student}/changes/{pending['change_id']}/review"
    by_school = await registry.post(review, json={"approve": True, "reason": "ok"}, headers=school)
    assert by_school.status_code == 403  # the county bureau verifies, not the school
    approved = await registry.post(review, json={"approve": True, "reason": "核实辍学"}, headers=_as(token, "county", "350602"))  # fmt: skip
    assert approved.status_code == 200 and approved.json()["state"] == "dropped_out", approved.text
    history = (await registry.get(f"/v1/students/{student}/history", headers=school)).json()["history"]
    assert history[-1]["type"] == "dropped_out" and history[-1]["status_retained"] is False

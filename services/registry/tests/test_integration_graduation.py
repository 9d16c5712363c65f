"""R46 graduation rosters over the real store: the school submits, the county bureau returns or approves, and the
approval graduates everyone on the roster with the roster's R08 certificate number and the roster as evidence."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from http_fixtures import enrolled, signed_in
from kafka_messages import published
from registry_driver import advance_to

from xueji_contracts.calendar import local_date
from xueji_contracts.topics import REGISTRY_COMPLIANCE
from xueji_registry.app import create_app
from xueji_registry.domain.periods import school_year_of
from xueji_registry.settings import RegistrySettings

pytestmark = pytest.mark.integration
SCHOOL = "3506020101"
# This school year's ninth-graders (by the China date the service judges by), who graduate when it ends: the county's
# review deadline is then still to come whenever the tests run.
SCHOOL_YEAR = school_year_of(local_date(datetime.now(UTC)))
GRADUATION = SCHOOL_YEAR + 1
JUNIOR = {"school_code": SCHOOL, "gender": "female", "birth_date": f"{SCHOOL_YEAR - 14}-04-02", "grade": 9,
          "school_year": SCHOOL_YEAR}  # fmt: skip
ROSTER = f"/v1/rosters/graduation/{SCHOOL}/{GRADUATION}/junior"

_as = signed_in(SCHOOL)


async def test_r46_the_county_approves_the_school_s_graduation_roster_and_everyone_on_it_graduates(
    start_app, dedupe_stub, token, isolation
):
    registry = await start_app(create_app, RegistrySettings, scheduler_enabled=False)
    async with dedupe_stub():
        ids = await enrolled(registry, _as(token), JUNIOR, "郑一", "郑二", "郑三")
        younger = await registry.post("/v1/students", json={**JUNIOR, "name": "郑小", "grade": 8}, headers=_as(token))
    assert younger.status_code == 201
    county = _as(token, "county", "350602")

    draft = await registry.get(ROSTER, headers=_as(token))
    assert draft.status_code == 200, draft.text
    assert draft.json()["status"] == "draft" and len(draft.json()["roster"]["graduates"]) == 3  # grade 8 is not on it
    assert (await registry.get(ROSTER, headers=_as(token, code="3506020102"))).status_code == 403  # R50

    left_off = [{"student_id": ids[1], "reason": "requirements not met: completion certificate"}]
    assert (await registry.post(f"{ROSTER}/submission", json={}, headers=county)).status_code == 403
    stranger = await registry.post(
        f"{ROSTER}/submission", json={"left_off": [{"student_id": "stu_x", "reason": "?"}]}, headers=_as(token)
    )
    assert stranger.status_code == 422 and stranger.json()["detail"][0]["field"] == "left_off"
    submitted = await registry.post(f"{ROSTER}/submission", json={"left_off": left_off}, headers=_as(token))
    assert submitted.status_code == 201, submitted.text
    in_draft_order = [g["student_id"] for g in draft.json()["roster"]["graduates"] if g["student_id"] != ids[1]]
    assert [g["student_id"] for g in submitted.json()["roster"]["graduates"]] == in_draft_order
    assert [g["sequence"] for g in submitted.json()["roster"]["graduates"]] == [1, 2]  # no gap for the one left off
    twice = await registry.post(f"{ROSTER}/submission", json={"left_off": left_off}, headers=_as(token))
    assert twice.status_code == 409 and twice.json()["detail"]["rule"] == "R46"

    by_school = await registry.post(f"{ROSTER}/review", json={"approve": True, "reason": "ok"}, headers=_as(token))
    assert by_school.status_code == 403  # the bureau verifies, not the school
    returned = await registry.post(f"{ROSTER}/review", json={"approve": False, "reason": "附件8未盖章"}, headers=county)
    assert returned.status_code == 200 and returned.json()["status"] == "returned", returned.text
    shown = (await registry.get(ROSTER, headers=county)).json()
    assert shown["status"] == "returned" and shown["review"]["reason"] == "附件8未盖章"
    nobody = await registry.get(f"/v1/students/{ids[0]}", headers=_as(token))
    assert nobody.json()["state"] == "enrolled"  # a returned roster graduates nobody

    again = await registry.post(f"{ROSTER}/submission", json={"left_off": left_off}, headers=_as(token))
    assert again.status_code == 201, again.text
    roster = again.json()["roster"]["graduates"]
    approved = await registry.post(f"{ROSTER}/review", json={"approve": True, "reason": "审核通过"}, headers=county)
    assert approved.status_code == 200, approved.text
    assert approved.json()["not_graduated"] == [], approved.text
    assert sorted(approved.json()["graduated"]) == sorted([ids[0], ids[2]])

    for line in roster:
        record = (await registry.get(f"/v1/students/{line['student_id']}", headers=_as(token))).json()
        assert record["state"] == "graduated"
        history = (await registry.get(f"/v1/students/{line['student_id']}/history", headers=_as(token))).json()
        graduated = [e for e in history["history"] if e["type"] == "graduated"]
        number = approved.json()["certificates"][line["student_id"]]
        assert [e["certificate_number"] for e in graduated] == [number]  # R08, drawn at approval
        requested = next(e for e in history["history"] if e["type"] == "change_requested")
        assert requested["evidence"][0]["kind"] == "graduation_roster"
        assert requested["evidence"][0]["sha256"] == again.json()["sha256"]  # R12: the roster itself is the evidence
    kept = (await registry.get(f"/v1/students/{ids[1]}", headers=_as(token))).json()
    assert kept["state"] == "enrolled"  # left off the roster

    resumed = await registry.post(f"{ROSTER}/review", json={"approve": True, "reason": "again"}, headers=county)
    assert resumed.status_code == 200 and sorted(resumed.json()["graduated"]) == sorted([ids[0], ids[2]])
    history = (await registry.get(f"/v1/students/{ids[0]}/history", headers=_as(token))).json()["history"]
    assert sum(e["type"] == "graduated" for e in history) == 1  # approving again graduates nobody twice
    final = (await registry.get(ROSTER, headers=county)).json()
    assert (final["status"], final["graduated"]) == ("approved", 2)
    shown = {g["student_id"]: g["certificate_number"] for g in final["roster"]["graduates"]}
    assert shown == approved.json()["certificates"] == resumed.json()["certificates"]  # R08: kept when resumed
    series = f"B2{GRADUATION % 100:02d}0201"  # R08: the graduation year in digits 2-3
    assert sorted(shown.values()) == [f"{series}0001", f"{series}0002"]  # the series of 3506020101, from 1
    # The count is the outcome the approval wrote in the roster's stream; without it (an approval interrupted
    # before its end) the graduates' records are counted instead.
    events = registry.app.state.runtime.events
    outcomes = [e for c in await events.load(f"graduation:{SCHOOL}:{GRADUATION}:junior") for e in c["events"]]
    assert [e["graduated"] for e in outcomes if e["type"] == "GraduationOutcomeRecorded"] == [2]
    await events.collection.delete_many(
        {"aggregate_id": f"graduation:{SCHOOL}:{GRADUATION}:junior", "commit_id": "outcome:2:0"}
    )
    assert (await registry.get(ROSTER, headers=county)).json()["graduated"] == 2

    # The bureau's task: each submission opened a review deadline in the county's name, each decision met it.
    stream = f"graduation:{SCHOOL}:{GRADUATION}:junior"

    def reviews(ms: list[dict]) -> list[dict]:
        return [m["payload"] for m in ms if m["payload"]["subject_id"] == stream]

    topic = isolation.topic(REGISTRY_COMPLIANCE.name)
    messages = reviews(await published(isolation.servers.kafka, topic, lambda ms: len(reviews(ms)) >= 4))
    assert [(m["state"], m["deadline_id"][-5:]) for m in messages] == [
        ("opened", "R46:1"), ("met", "R46:1"), ("opened", "R46:2"), ("met", "R46:2"),
    ]  # fmt: skip
    assert {(m["kind"], m["jurisdiction"], m["rule"]) for m in messages} == {("graduation_roster", "350602", "R46")}
    assert messages[0]["due_at"].startswith(f"{GRADUATION}-08-14T16:00")  # 24:00 Beijing time, when the window closes
    late = await registry.post(f"{ROSTER}/review", json={"approve": False, "reason": "too late"}, headers=county)
    assert late.status_code == 409


async def _one_submitted(start_app, dedupe_stub, token, school: str, name: str):
    """A registry with one ninth-grader at `school`, whose graduation roster the school has submitted."""
    registry = await start_app(create_app, RegistrySettings, scheduler_enabled=False)
    async with dedupe_stub():
        created = await registry.post(
            "/v1/students", json={**JUNIOR, "school_code": school, "name": name}, headers=_as(token, code=school)
        )
    assert created.status_code == 201, created.text
    roster = f"/v1/rosters/graduation/{school}/{GRADUATION}/junior"
    assert (await registry.post(f"{roster}/submission", json={}, headers=_as(token, code=school))).status_code == 201
    return registry, created.json()["student_id"], roster


async def test_r46_two_officials_deciding_one_roster_at_once_one_decision_stands(start_app, dedupe_stub, token):
    import asyncio

    school = "3506020102"
    registry, student, roster = await _one_submitted(start_app, dedupe_stub, token, school, "吴双")
    county = _as(token, "county", "350602")
    approve, give_back = await asyncio.gather(
        registry.post(f"{roster}/review", json={"approve": True, "reason": "通过"}, headers=county),
        registry.post(f"{roster}/review", json={"approve": False, "reason": "退回"}, headers=county),
    )
    assert sorted([approve.status_code, give_back.status_code]) == [200, 409], (approve.text, give_back.text)
    state = (await registry.get(f"/v1/students/{student}", headers=county)).json()["state"]
    assert state == ("graduated" if approve.status_code == 200 else "enrolled")


async def test_r46_a_roster_the_county_leaves_unreviewed_is_flagged_to_the_city_when_the_window_closes(
    start_app, dedupe_stub, token, isolation
):
    school = "3506020103"
    registry, _, _ = await _one_submitted(start_app, dedupe_stub, token, school, "何静")
    await advance_to(registry.app.state.compliance, datetime(GRADUATION, 8, 15, tzinfo=UTC))
    stream = f"graduation:{school}:{GRADUATION}:junior"

    def reviews(ms: list[dict]) -> list[dict]:
        return [m["payload"] for m in ms if m["payload"]["subject_id"] == stream]

    topic = isolation.topic(REGISTRY_COMPLIANCE.name)
    messages = reviews(await published(isolation.servers.kafka, topic, lambda ms: len(reviews(ms)) >= 3))
    assert [m["state"] for m in messages] == ["opened", "due_soon", "overdue"]
    assert (messages[-1]["jurisdiction"], messages[-1]["flagged_to"]) == ("350602", "350600")  # the city hears

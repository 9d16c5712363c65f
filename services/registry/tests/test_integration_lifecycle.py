"""R40-R42, R12 over HTTP against the real store: the school asks with evidence, the county verifies; an illegal
transition is a 409 naming the current state and changes nothing; the history keeps who, when, why, evidence."""

from __future__ import annotations

import pytest
from http_fixtures import evidence_json as _evidence
from http_fixtures import pupil, signed_in, this_term

from xueji_registry.app import create_app
from xueji_registry.settings import RegistrySettings

pytestmark = pytest.mark.integration
SCHOOL = "3506020201"
PUPIL = pupil(SCHOOL, "许安然", "2016-05-02", 4)
TERM = this_term()

_as = signed_in(SCHOOL)


async def test_r40_r41_suspension_is_asked_with_evidence_verified_by_the_county_and_illegal_steps_are_409(
    start_app, dedupe_stub, token
):
    registry = await start_app(create_app, RegistrySettings, scheduler_enabled=False)
    async with dedupe_stub():
        created = await registry.post("/v1/students", json=PUPIL, headers=_as(token))
    assert created.status_code == 201, created.text
    student = created.json()["student_id"]
    changes = f"/v1/students/{student}/changes"
    county = _as(token, "county", "350602")

    resume_first = {"reason": "复学", "evidence": [_evidence("written_application")],
                    "details": {"kind": "resume", "grade": 4, "term": TERM}}  # fmt: skip
    illegal = await registry.post(changes, json=resume_first, headers=_as(token))
    assert illegal.status_code == 409 and illegal.json()["detail"]["current_state"] == "enrolled", illegal.text

    suspend = {"reason": "因病休学", "details": {"kind": "suspend", "cause": "illness", "term": TERM}}
    bare = await registry.post(changes, json={**suspend, "evidence": [_evidence("suspension_application")]},
                               headers=_as(token))  # fmt: skip
    assert bare.status_code == 422 and bare.json()["rule"] == "R40"  # no medical certificate
    assert bare.json()["detail"][0]["field"] == "evidence"
    evidence = [_evidence("suspension_application"), _evidence("medical_certificate")]
    asked = await registry.post(changes, json={**suspend, "evidence": evidence}, headers=_as(token))
    assert asked.status_code == 200, asked.text
    assert asked.json()["state"] == "enrolled"  # nothing changes before the county verifies
    (pending,) = asked.json()["pending_changes"]

    review = f"{changes}/{pending['change_id']}/review"
    by_school = await registry.post(review, json={"approve": True, "reason": "ok"}, headers=_as(token))
    assert by_school.status_code == 403
    other_county = await registry.post(review, json={"approve": True, "reason": "ok"}, headers=_as(token, "county", "350603"))  # fmt: skip
    assert other_county.status_code == 404  # R50: outside the jurisdiction, told what a missing record answers
    approved = await registry.post(review, json={"approve": True, "reason": "材料齐全"}, headers=county)
    assert approved.status_code == 200 and approved.json()["state"] == "suspended", approved.text
    # Decided again from a page left open (or a second click without a key): a conflict naming the first decision.
    again = await registry.post(review, json={"approve": False, "reason": "材料不全"}, headers=county)
    assert again.status_code == 409, again.text
    assert again.json()["detail"]["field"] == "change_id" and "already approved" in again.json()["detail"]["reason"]
    assert (await registry.post(review, json={"approve": True, "reason": "ok"}, headers=_as(token))).status_code == 403
    unknown = await registry.post(f"{changes}/chg_none/review", json={"approve": True, "reason": "ok"}, headers=county)
    assert unknown.status_code == 404, unknown.text

    abroad = {"reason": "出国", "evidence": [_evidence("abroad_application"), _evidence("passport")],
              "details": {"kind": "go_abroad"}}  # fmt: skip
    refused = await registry.post(changes, json=abroad, headers=_as(token))
    assert refused.status_code == 409 and refused.json()["detail"]["current_state"] == "suspended"
    assert refused.json()["detail"]["rule"] == "R42"
    assert (await registry.get(f"/v1/students/{student}", headers=_as(token))).json()["state"] == "suspended"

    history = (await registry.get(f"/v1/students/{student}/history", headers=county)).json()["history"]
    kinds = [e["type"] for e in history]
    assert kinds[-3:] == ["change_requested", "change_approved", "suspended"], kinds
    requested = history[-3]
    assert (requested["by"]["role"], requested["reason"]) == ("school", "因病休学")
    assert {e["kind"] for e in requested["evidence"]} == {"suspension_application", "medical_certificate"}
    assert history[-2]["by"]["role"] == "county" and history[-2]["reason"] == "材料齐全"
    assert all(e["at"] for e in history)  # R12: when, for every entry

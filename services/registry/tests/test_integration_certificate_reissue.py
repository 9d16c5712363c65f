"""R08 over HTTP and the real store: a junior graduate who moved on to senior high in another county has the lost
junior diploma reissued; the senior school asks, the county bureau of the school that issued it (not the senior
school's) audits it."""

from __future__ import annotations

import pytest
from http_fixtures import enrolled, evidence_json, signed_in

from xueji_registry.app import create_app
from xueji_registry.settings import RegistrySettings

pytestmark = pytest.mark.integration
JUNIOR_SCHOOL, SENIOR_SCHOOL = "3506020111", "3506030211"
JUNIOR = {"school_code": JUNIOR_SCHOOL, "gender": "male", "birth_date": "2012-06-02", "grade": 9, "school_year": 2026}
ROSTER = f"/v1/rosters/graduation/{JUNIOR_SCHOOL}/2027/junior"

_as = signed_in(JUNIOR_SCHOOL)


async def test_r08_the_issuing_county_reissues_the_junior_diploma_of_a_student_now_in_senior_high_elsewhere(
    start_app, dedupe_stub, token
):
    registry = await start_app(create_app, RegistrySettings, scheduler_enabled=False)
    async with dedupe_stub():
        [student] = await enrolled(registry, _as(token), JUNIOR, "许一鸣")
    junior_county, senior_county = _as(token, "county", "350602"), _as(token, "county", "350603")
    submitted = await registry.post(f"{ROSTER}/submission", json={}, headers=_as(token))
    assert submitted.status_code == 201, submitted.text
    approved = await registry.post(
        f"{ROSTER}/review", json={"approve": True, "reason": "审核通过"}, headers=junior_county
    )
    assert approved.status_code == 200 and approved.json()["graduated"] == [student], approved.text
    diploma = approved.json()["certificates"][student]

    senior = _as(token, code=SENIOR_SCHOOL)
    freshman = {"school_code": SENIOR_SCHOOL, "segment": "senior", "grade": 10, "school_year": 2026}
    registered = await registry.post(f"/v1/students/{student}/freshman", json=freshman, headers=senior)
    assert registered.status_code == 200 and registered.json()["state"] == "enrolled", registered.text

    reissue = {"reason": "初中毕业证遗失", "evidence": [evidence_json("loss_statement")],
               "details": {"kind": "reissue_certificate", "certificate_number": diploma}}  # fmt: skip
    asked = await registry.post(f"/v1/students/{student}/changes", json=reissue, headers=senior)
    assert asked.status_code == 200, asked.text
    (pending,) = asked.json()["pending_changes"]
    review = f"/v1/students/{student}/changes/{pending['change_id']}/review"
    by_senior_county = await registry.post(review, json={"approve": True, "reason": "ok"}, headers=senior_county)
    assert by_senior_county.status_code == 403, by_senior_county.text  # it did not issue the diploma
    by_issuing_county = await registry.post(review, json={"approve": True, "reason": "审核补发"}, headers=junior_county)
    assert by_issuing_county.status_code == 200, by_issuing_county.text
    history = (await registry.get(f"/v1/students/{student}/history", headers=senior)).json()["history"]
    # Found by type, not as the last event: the senior school's R07 number may be assigned after it (asynchronously).
    reissued = [event for event in history if event["type"] == "certificate_reissued"]
    assert [event["certificate_number"] for event in reissued] == [diploma]

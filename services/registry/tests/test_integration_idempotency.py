"""Idempotency-Key on the registry's write routes beyond `POST /v1/students` (issue 15, defect 6; IETF httpapi
Idempotency-Key draft), over the real store: a retried class upload, graduation roster submission and review, and
annual roster submission get the first answer with no second effect; the same key with another request (a change
request with another body) is refused with 422 naming the header."""

from __future__ import annotations

import pytest

from xueji_registry.app import create_app
from xueji_registry.settings import RegistrySettings

pytestmark = pytest.mark.integration
SCHOOL = "3506020101"
JUNIOR = {"school_code": SCHOOL, "gender": "female", "birth_date": "2012-04-02", "grade": 9, "school_year": 2026}
ROSTER = f"/v1/rosters/graduation/{SCHOOL}/2027/junior"
CLASS = "姓名,性别,出生日期,身份证件号,年级\n林小明,男,2019-03-15,350602201903151237,1\n陈思雨,女,2019-05-01,,1\n"


def _as(token, role: str = "school", code: str = SCHOOL, key: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(role, code)}", **({"Idempotency-Key": key} if key else {})}


def _refused_for_the_key(answer) -> None:
    assert answer.status_code == 422, answer.text
    (problem,) = answer.json()["detail"]
    assert (problem["field"], problem["in"]) == ("Idempotency-Key", "header")


async def test_r46_r54_retried_uploads_and_roster_steps_get_the_first_answer(start_app, dedupe_stub, token):
    registry = await start_app(create_app, RegistrySettings, scheduler_enabled=False)
    form = {"school_code": SCHOOL, "school_year": "2026"}
    upload = {"file": ("class.csv", CLASS.encode(), "text/csv")}
    async with dedupe_stub():
        created = await registry.post("/v1/students", json={**JUNIOR, "name": "郑一"}, headers=_as(token))
        assert created.status_code == 201, created.text
        # Each send draws a new multipart boundary: still the same request.
        first = await registry.post("/v1/students/bulk", files=upload, data=form, headers=_as(token, key="class-1"))
        retry = await registry.post("/v1/students/bulk", files=upload, data=form, headers=_as(token, key="class-1"))
    assert first.status_code == 200 and first.json()["requested"] == 2, first.text
    assert (retry.status_code, retry.json()) == (200, first.json())
    changed = {"file": ("class.csv", CLASS.replace("陈思雨", "陈思语").encode(), "text/csv")}
    _refused_for_the_key(
        await registry.post("/v1/students/bulk", files=changed, data=form, headers=_as(token, key="class-1"))
    )

    submitted = await registry.post(f"{ROSTER}/submission", json={}, headers=_as(token, key="grad-1"))
    again = await registry.post(f"{ROSTER}/submission", json={}, headers=_as(token, key="grad-1"))
    assert submitted.status_code == 201, submitted.text
    assert (again.status_code, again.json()) == (201, submitted.json())
    county = _as(token, "county", "350602", key="review-1")
    reviewed = await registry.post(f"{ROSTER}/review", json={"approve": False, "reason": "附件8未盖章"}, headers=county)
    reviewed_again = await registry.post(
        f"{ROSTER}/review", json={"approve": False, "reason": "附件8未盖章"}, headers=county
    )
    assert reviewed.status_code == 200, reviewed.text
    assert (reviewed_again.status_code, reviewed_again.json()) == (200, reviewed.json())
    _refused_for_the_key(
        await registry.post(f"{ROSTER}/review", json={"approve": True, "reason": "审核通过"}, headers=county)
    )
    assert (await registry.get(ROSTER, headers=_as(token))).json()["status"] == "returned"

    annual = f"/v1/rosters/annual/{SCHOOL}/2026/submission"
    filed = await registry.post(annual, json={}, headers=_as(token, key="annual-1"))
    filed_again = await registry.post(annual, json={}, headers=_as(token, key="annual-1"))
    assert filed.status_code == 201, filed.text
    assert (filed_again.status_code, filed_again.json()) == (201, filed.json())


async def test_r12_a_change_request_key_reused_with_another_body_is_refused(start_app, dedupe_stub, token):
    registry = await start_app(create_app, RegistrySettings, scheduler_enabled=False)
    async with dedupe_stub():
        created = await registry.post("/v1/students", json={**JUNIOR, "name": "郑二"}, headers=_as(token))
    student_id = created.json()["student_id"]
    certificate = [{"kind": "death_certificate", "uri": "s3://evidence/death", "sha256": "0" * 64}]
    change = {
        "reason": "家长报告",
        "evidence": certificate,
        "details": {"kind": "death", "date_of_death": "2026-10-01"},
    }
    path = f"/v1/students/{student_id}/changes"
    first = await registry.post(path, json=change, headers=_as(token, key="change-1"))
    assert first.status_code == 200, first.text
    other = {**change, "details": {"kind": "death", "date_of_death": "2026-10-02"}}
    _refused_for_the_key(await registry.post(path, json=other, headers=_as(token, key="change-1")))
    history = (await registry.get(f"/v1/students/{student_id}/history", headers=_as(token))).json()["history"]
    assert "2026-10-02" not in str(history)

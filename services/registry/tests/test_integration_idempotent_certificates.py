"""R08 over HTTP and the real store: a graduation sent again with its Idempotency-Key gets the first answer, its
certificate number included, also when the first answer was not kept (the process stopped after answering and before
keeping it, or the store refused the claim's write): the retry then runs the route again, which stores nothing (its
commit is derived from the key) and must answer as the first run did.

A county approval of a graduation request lost the number on the retry (the change it approved was no longer pending,
so the route no longer saw a graduation); a primary graduation that takes effect at once and a roster approval, which
answered it on a retry already, are pinned beside it."""

from __future__ import annotations

from typing import Any

import pytest
from http_fixtures import answer_not_kept, enrolled, evidence_json, keyed, signed_in

from xueji_registry.app import create_app
from xueji_registry.settings import RegistrySettings

pytestmark = pytest.mark.integration
JUNIOR_SCHOOL, PRIMARY_SCHOOL = "3506020112", "3506020212"
ROSTER = f"/v1/rosters/graduation/{JUNIOR_SCHOOL}/2027/junior"
_as = signed_in(JUNIOR_SCHOOL)


def _student(school: str, grade: int, born: str) -> dict[str, object]:
    return {"school_code": school, "gender": "male", "birth_date": born, "grade": grade, "school_year": 2026}


async def _sent_twice(registry: Any, path: str, body: dict[str, Any], headers: dict[str, str]) -> tuple[Any, Any]:
    """The request, then its retry with the same key after the first answer was lost before it was kept."""
    first = await registry.post(path, json=body, headers=headers)
    assert first.status_code == 200, first.text
    await answer_not_kept(registry, headers["Idempotency-Key"])
    again = await registry.post(path, json=body, headers=headers)
    assert "idempotent-replayed" not in again.headers  # the route ran again
    return first, again


async def test_r08_a_graduation_sent_again_with_its_key_answers_its_certificate_number_as_the_first_time(
    start_app, dedupe_stub, token
):
    registry = await start_app(create_app, RegistrySettings, scheduler_enabled=False)
    async with dedupe_stub():
        (junior,) = await enrolled(registry, _as(token), _student(JUNIOR_SCHOOL, 9, "2012-05-06"), "周一")
        (pupil,) = await enrolled(
            registry, _as(token, code=PRIMARY_SCHOOL), _student(PRIMARY_SCHOOL, 6, "2015-03-04"), "吴一"
        )

    # A junior graduation the school requested with roster evidence, approved by the county bureau.
    details = {"kind": "graduate", "graduation_year": 2027, "numbering": {"county": "02", "school": "12"}}
    request = {"reason": "毕业", "evidence": [evidence_json("graduation_roster")], "details": details}
    asked = await registry.post(f"/v1/students/{junior}/changes", json=request, headers=_as(token))
    (pending,) = asked.json()["pending_changes"]
    review = f"/v1/students/{junior}/changes/{pending['change_id']}/review"
    county = keyed(_as(token, "county", "350602"), "approve-graduation")
    approved, again = await _sent_twice(registry, review, {"approve": True, "reason": "审核通过"}, county)
    assert approved.json()["certificate_number"].startswith("B2270212"), approved.text
    assert again.json() == approved.json()

    # A primary diploma takes effect as the school asks for it.
    primary = {**details, "numbering": {"county": "02", "township": "02", "school": "12"}}
    school = keyed(_as(token, code=PRIMARY_SCHOOL), "graduate-pupil")
    body = {"reason": "毕业", "evidence": [], "details": primary}
    graduated, again = await _sent_twice(registry, f"/v1/students/{pupil}/changes", body, school)
    assert graduated.json()["certificate_number"].startswith("B127020212"), graduated.text
    assert again.json() == graduated.json()


async def test_r08_r46_a_roster_approval_sent_again_with_its_key_answers_its_certificates_as_the_first_time(
    start_app, dedupe_stub, token
):
    registry = await start_app(create_app, RegistrySettings, scheduler_enabled=False)
    async with dedupe_stub():
        ids = await enrolled(registry, _as(token), _student(JUNIOR_SCHOOL, 9, "2012-05-06"), "林一", "林二")
    submitted = await registry.post(f"{ROSTER}/submission", json={}, headers=_as(token))
    assert submitted.status_code == 201, submitted.text
    county = keyed(_as(token, "county", "350602"), "approve-roster")
    approved, again = await _sent_twice(registry, f"{ROSTER}/review", {"approve": True, "reason": "审核通过"}, county)
    assert sorted(approved.json()["certificates"]) == sorted(ids), approved.text
    assert again.json() == approved.json()

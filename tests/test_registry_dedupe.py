"""Registry and dedupe together over the real broker and store (R01, R14): every creation asks dedupe by
correlation id; created records feed dedupe's index through registry.identity.v1; a possible duplicate waits for
the county's review; while dedupe is away, enrollments wait and complete once it is back."""

from __future__ import annotations

import asyncio

import pytest

from xueji_contracts.messages.dedupe_review import ReviewDecision
from xueji_dedupe.app import create_app as create_dedupe
from xueji_dedupe.settings import DedupeSettings
from xueji_registry.app import create_app as create_registry
from xueji_registry.settings import RegistrySettings

pytestmark = pytest.mark.integration

SCHOOL, OTHER_SCHOOL = "3506020001", "3506020002"
NEIGHBOUR_SCHOOL, NEIGHBOUR_COUNTY = "3506030001", "350603"
CHILD = {
    "school_code": SCHOOL,
    "name": "林小明",
    "id_number": "350602201402140011",
    "gender": "male",
    "birth_date": "2014-02-14",
    "grade": 1,
    "school_year": 2026,
}


def _as(token, role: str, code: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(role, code)}"}


async def _dedupe(start_app):
    return await start_app(create_dedupe, DedupeSettings, national_enabled=False)


async def _indexed(dedupe, token, records: int) -> bool:
    answer = await dedupe.get("/v1/index", headers=_as(token, "province", "350000"))
    return answer.json()["records"] >= records


async def test_r01_r14_the_same_child_enrolled_again_elsewhere_is_refused_with_a_reference(start_app, token, wait_for):
    dedupe = await _dedupe(start_app)
    registry = await start_app(create_registry, RegistrySettings)
    first = await registry.post("/v1/students", json=CHILD, headers=_as(token, "school", SCHOOL))
    assert first.status_code == 201, first.text
    assert first.json()["state"] == "enrolled"
    await wait_for(lambda: _indexed(dedupe, token, 1))  # the identity feed reached the index

    again = {**CHILD, "school_code": OTHER_SCHOOL, "name": "林 小明"}  # a stray space changes nothing
    second = await registry.post("/v1/students", json=again, headers=_as(token, "school", OTHER_SCHOOL))
    assert second.status_code == 409, second.text
    refusal = second.json()["detail"]
    assert (refusal["rule"], refusal["existing_student_id"]) == ("R01", first.json()["student_id"])


@pytest.mark.parametrize("decision", [ReviewDecision.DIFFERENT_PERSON, ReviewDecision.SAME_PERSON])
async def test_r14_a_possible_duplicate_waits_for_the_county_which_releases_or_refuses_it(
    start_app, token, wait_for, decision
):
    dedupe = await _dedupe(start_app)
    registry = await start_app(create_registry, RegistrySettings)
    first = await registry.post("/v1/students", json=CHILD, headers=_as(token, "school", SCHOOL))
    assert first.status_code == 201, first.text
    await wait_for(lambda: _indexed(dedupe, token, 1))

    # No ID number, a homophone in the given name, the same birth date, the next county: maybe the same child.
    maybe = {**CHILD, "school_code": NEIGHBOUR_SCHOOL, "name": "林晓明", "id_number": None}
    held = await registry.post("/v1/students", json=maybe, headers=_as(token, "school", NEIGHBOUR_SCHOOL))
    assert held.status_code == 201, held.text
    assert held.json()["state"] == "pending_review"
    student_id = held.json()["student_id"]

    county = _as(token, "county", NEIGHBOUR_COUNTY)  # the bureau of the new record's county decides
    cases = await wait_for(lambda: _open_cases(dedupe, county))
    [case] = [c for c in cases if c["student_id"] == student_id]
    decided = await dedupe.post(
        f"/v1/review-cases/{case['case_id']}/decision",
        json={"decision": decision.value, "reason": "checked the household register"},
        headers=county,
    )
    assert decided.status_code == 200, decided.text

    async def settled() -> dict | None:
        view = (await registry.get(f"/v1/students/{student_id}", headers=county)).json()
        return view if view.get("state") != "pending_review" or view.get("closed") else None

    view = await wait_for(settled)
    if decision is ReviewDecision.DIFFERENT_PERSON:
        assert view["state"] == "enrolled" and not view["closed"]
        await wait_for(lambda: _indexed(dedupe, token, 2))  # released: now compared against too
    else:
        assert view["closed"]  # refused as the same child: kept as history, never compared against (R01, R12)
        assert await _indexed(dedupe, token, 1) and not await _indexed(dedupe, token, 2)


async def _open_cases(dedupe, headers) -> list[dict]:
    answer = await dedupe.get("/v1/review-cases", params={"state": "open"}, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()["cases"]


async def test_r14_enrollments_wait_while_dedupe_is_down_and_complete_once_it_is_back(start_app, token, wait_for):
    registry = await start_app(create_registry, RegistrySettings, enrollment_wait_seconds=0.2)
    answers = await asyncio.gather(
        *(
            registry.post(
                "/v1/students",
                json={**CHILD, "id_number": None, "name": f"王{n}"[:4], "birth_date": f"2014-03-{n + 1:02d}"},
                headers=_as(token, "school", SCHOOL),
            )
            for n in range(3)
        )
    )
    assert [a.status_code for a in answers] == [202, 202, 202]
    ids = [a.json()["student_id"] for a in answers]

    await _dedupe(start_app)  # dedupe comes back and answers what waited

    async def all_enrolled() -> bool:
        views = [(await registry.get(f"/v1/students/{i}", headers=_as(token, "school", SCHOOL))).json() for i in ids]
        return all(v.get("state") == "enrolled" for v in views)

    await wait_for(all_enrolled)
    events = registry.app.state.runtime.events.collection
    for student_id in ids:  # created exactly once
        assert await events.count_documents({"aggregate_id": student_id, "version": 1}) == 1

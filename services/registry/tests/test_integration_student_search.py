"""A school finds its own students by name for the transfer form (issue 18): R50 scopes the search to the operator's
jurisdiction, R52 lets only masked numbers out, and a student who moved away is no longer the old school's."""

from __future__ import annotations

import pytest
from test_integration_school_register import JOINED, LEFT, PUPIL, _as, _transferred

from xueji_contracts.topics import TRANSFER_CASE
from xueji_registry.app import create_app
from xueji_registry.settings import RegistrySettings

pytestmark = pytest.mark.integration
ID_NUMBER = "350602201703090011"


async def test_r50_r52_a_school_searches_its_own_students_by_name_with_masked_numbers(
    start_app, dedupe_stub, token, isolation, wait_for
):
    registry = await start_app(create_app, RegistrySettings, scheduler_enabled=False)
    school = _as(token, "school", LEFT)
    pupils = [
        (LEFT, {**PUPIL, "name": "蔡一鸣", "id_number": ID_NUMBER}),
        (LEFT, {**PUPIL, "name": "蔡二鸣"}),
        (LEFT, {**PUPIL, "name": "王小明"}),
        (JOINED, {**PUPIL, "school_code": JOINED, "name": "蔡三鸣"}),
    ]
    ids = {}
    async with dedupe_stub():
        for code, body in pupils:
            created = await registry.post("/v1/students", json=body, headers=_as(token, "school", code))
            assert created.status_code == 201, created.text
            ids[body["name"]] = created.json()["student_id"]

    async def search(name: str, headers: dict[str, str], code: str = LEFT):
        return await registry.get("/v1/students", params={"school": code, "name": name}, headers=headers)

    found = (await search("蔡", school)).json()
    assert [s["name"] for s in found["students"]] == ["蔡一鸣", "蔡二鸣"]  # not the other school's 蔡三鸣
    first = found["students"][0]
    assert first["student_id"] == ids["蔡一鸣"] and "*" in first["status_number_masked"]
    assert ID_NUMBER not in str(found) and ID_NUMBER[6:14] not in str(found)  # R52: no ID number, no birth date
    assert [s["name"] for s in (await search("鸣", _as(token, "county", "350602"))).json()["students"]] == [
        "蔡一鸣", "蔡二鸣"
    ]  # fmt: skip
    assert (await search("李", school)).json()["students"] == []

    # R50: another school (or a bureau elsewhere) cannot search this school's students.
    assert (await search("蔡", _as(token, "school", JOINED))).status_code == 403
    assert (await search("蔡", _as(token, "county", "350603"))).status_code == 403
    bad = await search("", school)
    assert bad.status_code == 422 and "name" in bad.text
    blank = await search(" \u3000 ", school)  # spaces alone would contain every name: the school's first students
    assert blank.status_code == 422 and blank.json()["detail"][0]["field"] == "name", blank.text
    assert (await search("蔡", school, code="35060")).status_code == 422

    # Moved to another school: no longer found at the school left, found at the new one.
    await _transferred(isolation.servers.kafka, isolation.topic(TRANSFER_CASE.name), ids["蔡二鸣"])

    async def moved():
        names = [s["name"] for s in (await search("蔡", school)).json()["students"]]
        return names == ["蔡一鸣"]

    await wait_for(moved)
    there = (await search("蔡", _as(token, "school", JOINED), code=JOINED)).json()["students"]
    assert sorted(s["name"] for s in there) == ["蔡三鸣", "蔡二鸣"]

"""R51 at every level (R50: the city supervises, the province coordinates): a city's or a province's audit covers
the schools of every county in it. Its code is a division code (`350600`), not a prefix of school codes: read as
one, a city found no school at all (`3506020001` does not start with `350600`)."""

from __future__ import annotations

import pytest

from xueji_registry.app import create_app
from xueji_registry.settings import RegistrySettings

pytestmark = pytest.mark.integration
STUDENT = {"gender": "male", "birth_date": "2019-05-01", "grade": 1, "school_year": 2026}
# Two counties of Zhangzhou (3506) and one of Fuzhou (3501).
SCHOOLS = ("3506020001", "3506030001", "3501020001")


def _as(token, role: str, code: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(role, code)}"}


async def test_r51_a_city_and_a_province_audit_every_county_in_them(start_app, dedupe_stub, token):
    registry = await start_app(create_app, RegistrySettings, scheduler_enabled=False)
    async with dedupe_stub():
        for n, school in enumerate(SCHOOLS):
            body = {**STUDENT, "school_code": school, "name": f"林{n}"}
            created = await registry.post("/v1/students", json=body, headers=_as(token, "school", school))
            assert created.status_code == 201, created.text

    city = (await registry.get("/v1/audit", headers=_as(token, "city", "350600"))).json()
    assert (city["jurisdiction"], city["records_audited"]) == ("350600", 2), city
    assert {p["school_code"] for p in city["problems"]} == {"3506020001", "3506030001"}
    province = (await registry.get("/v1/audit", headers=_as(token, "province", "350000"))).json()
    assert province["records_audited"] == 3, province
    one_county = await registry.get(
        "/v1/audit", params={"jurisdiction": "350603"}, headers=_as(token, "city", "350600")
    )
    assert one_county.json()["records_audited"] == 1

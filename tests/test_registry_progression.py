"""R07 over the real servers (registry and dedupe): a primary graduate the junior school enrols is refused as the
same person (R01) naming the existing record; the school registers that record as its junior freshman instead, and
gets the junior supplementary number from its own sequence, while the primary number stays with the record."""

from __future__ import annotations

import pytest

from xueji_dedupe.app import create_app as create_dedupe
from xueji_dedupe.settings import DedupeSettings
from xueji_registry.app import create_app as create_registry
from xueji_registry.settings import RegistrySettings

pytestmark = pytest.mark.integration
PRIMARY, JUNIOR = "3506020601", "3506020602"
PUPIL = {"school_code": PRIMARY, "name": "林思琪", "id_number": "350602201403150027", "gender": "female",
         "birth_date": "2014-03-15", "grade": 6, "school_year": 2026}  # fmt: skip


def _as(token, role: str, code: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(role, code)}"}


async def test_r07_a_primary_graduate_registered_as_junior_freshman_gets_the_junior_number_and_keeps_the_primary(
    start_app, token, wait_for
):
    dedupe = await start_app(create_dedupe, DedupeSettings, national_enabled=False)
    registry = await start_app(create_registry, RegistrySettings, scheduler_enabled=False)
    primary, junior = _as(token, "school", PRIMARY), _as(token, "school", JUNIOR)
    created = await registry.post("/v1/students", json=PUPIL, headers=primary)
    assert created.status_code == 201, created.text
    student = created.json()["student_id"]

    async def numbered(headers: dict[str, str], segment: str) -> dict | None:
        view = (await registry.get(f"/v1/students/{student}", headers=headers)).json()
        return view if segment in view.get("supplementary_numbers", {}) else None

    primary_number = (await wait_for(lambda: numbered(primary, "primary")))["supplementary_numbers"]["primary"]
    graduate = {"reason": "小学毕业", "details": {"kind": "graduate", "graduation_year": 2027}}  # the school's digits
    done = await registry.post(f"/v1/students/{student}/changes", json=graduate, headers=primary)
    assert done.status_code == 200 and done.json()["state"] == "graduated", done.text

    async def indexed() -> bool:
        answer = await dedupe.get("/v1/index", headers=_as(token, "province", "350000"))
        return answer.json()["records"] >= 1

    await wait_for(indexed)
    again = await registry.post("/v1/students", json={**PUPIL, "school_code": JUNIOR, "grade": 7, "school_year": 2027},
                                headers=junior)  # fmt: skip
    assert again.status_code == 409 and again.json()["detail"]["existing_student_id"] == student, again.text

    freshman = {"school_code": JUNIOR, "segment": "junior", "grade": 7, "school_year": 2027}
    outsider = await registry.post(f"/v1/students/{student}/freshman", json=freshman, headers=primary)
    assert outsider.status_code == 403  # R50: the junior school registers its own freshman
    registered = await registry.post(f"/v1/students/{student}/freshman", json=freshman, headers=junior)
    assert registered.status_code == 200, registered.text
    assert (registered.json()["state"], registered.json()["school_code"], registered.json()["segment"]) == (
        "enrolled", JUNIOR, "junior"
    )  # fmt: skip
    view = await wait_for(lambda: numbered(junior, "junior"))
    numbers = view["supplementary_numbers"]
    assert numbers["primary"] == primary_number  # kept in history
    assert numbers["junior"].startswith("227") and numbers["junior"].endswith("0001")  # the school's first of 2027
    history = (await registry.get(f"/v1/students/{student}/history", headers=junior)).json()["history"]
    assert [e["type"] for e in history if e["type"] in ("freshman_registered", "supplementary_number_assigned")] == [
        "supplementary_number_assigned", "freshman_registered", "supplementary_number_assigned"
    ]  # fmt: skip
    twice = await registry.post(f"/v1/students/{student}/freshman", json=freshman, headers=junior)
    assert twice.status_code == 409 and twice.json()["detail"]["rule"] == "R07"

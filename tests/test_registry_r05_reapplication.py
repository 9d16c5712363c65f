"""R05 over the real servers (registry, the province's dedupe and the national tier with a population register):
a G number changed by re-application in a special case (003 Q6) goes through the application process — the school's
written application, the county's approval, the national checks — and is then recorded with that approval as a
number change; it is valid (the R51 audit does not list it) though it differs from "G" + the ID number."""

from __future__ import annotations

import json

import pytest

from xueji_contracts.identity import check_character
from xueji_dedupe.app import create_app as create_dedupe
from xueji_dedupe.settings import DedupeSettings
from xueji_registry.app import create_app as create_registry
from xueji_registry.settings import RegistrySettings

pytestmark = pytest.mark.integration
SCHOOL = "3506020001"
CHILD = {"school_code": SCHOOL, "name": "林小明", "id_number": "350602201402140011", "gender": "male",
         "birth_date": "2014-02-14", "grade": 1, "school_year": 2026}  # fmt: skip


def _as(token, role: str, code: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(role, code)}"}


APPLICATION = {"kind": "written_application", "uri": "s3://evidence/reapply.pdf", "sha256": "cd" * 32}


async def test_r05_a_g_number_changed_by_re_application_with_its_approval_is_valid(
    start_app, token, isolation, tmp_path, wait_for, national_tier
):
    register = tmp_path / "register.json"
    person = {"id_number": CHILD["id_number"], "name": CHILD["name"], "birth_date": CHILD["birth_date"]}
    register.write_text(json.dumps([{**person, "gender": "male"}]))
    await start_app(create_dedupe, DedupeSettings)
    registry = await start_app(create_registry, RegistrySettings, scheduler_enabled=False)
    school, county = _as(token, "school", SCHOOL), _as(token, "county", "350602")
    first17 = "35060220190601009"
    new_number = "G" + first17 + check_character(first17)
    async with national_tier(register):
        created = await registry.post("/v1/students", json=CHILD, headers=school)
        assert created.status_code == 201, created.text
        student = created.json()["student_id"]
        started = await registry.post("/v1/formal-numbers/batches", json={"school_year": 2026}, headers=county)
        batch = started.json()["batch_id"]

        async def issued() -> bool:
            report = (await registry.get(f"/v1/formal-numbers/batches/{batch}", headers=county)).json()
            return report["issued"] == [student]

        await wait_for(issued, timeout=45)
        body = {"reason": "原G号需更正，监护人书面申请", "evidence": [APPLICATION],
                "details": {"kind": "reapply_formal_number", "number": new_number, "special_case": "省级核实的特殊情况"}}  # fmt: skip
        requested = await registry.post(f"/v1/students/{student}/changes", json=body, headers=school)
        assert requested.status_code == 200, requested.text
        [pending] = requested.json()["pending_changes"]
        review = f"/v1/students/{student}/changes/{pending['change_id']}/review"
        approved = await registry.post(review, json={"approve": True, "reason": "县级审核同意"}, headers=county)
        assert approved.json()["pending_changes"][0]["phase"] == "awaiting_national_checks", approved.text

        async def changed() -> list[dict] | None:
            history = (await registry.get(f"/v1/students/{student}/history", headers=county)).json()["history"]
            found = [e for e in history if e["type"] == "status_number_changed" and e["cause"] == "reapplied"]
            return history if found else None

        history = await wait_for(changed, timeout=45)
    change = next(e for e in history if e["type"] == "status_number_changed" and e["cause"] == "reapplied")
    # The history shows numbers masked (R52): the re-applied number replaced the G + ID one.
    assert change["number"][-4:] == new_number[-4:] and change["previous"][-4:] == CHILD["id_number"][-4:]
    assert change["change_id"] == pending["change_id"]
    approval = next(e for e in history if e["type"] == "change_approved" and e["change_id"] == pending["change_id"])
    assert approval["by"]["role"] == "county"
    checks = next(e for e in history if e["type"] == "national_checks_recorded")
    assert (checks["duplicate_check"], checks["identity_comparison"]) == ("passed", "passed")
    audit = (await registry.get("/v1/audit", headers=county)).json()
    assert not [p for p in audit["problems"] if p["rule"] == "R05"]  # valid: changed by re-application

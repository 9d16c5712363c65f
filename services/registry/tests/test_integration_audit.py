"""R51 over the real store: the audit of a jurisdiction, as JSON and as a spreadsheet, masked (R52), scoped (R50)."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from xueji_registry.app import create_app
from xueji_registry.settings import RegistrySettings

pytestmark = pytest.mark.integration
STUDENT = {"gender": "male", "birth_date": "2019-05-01", "grade": 1, "school_year": 2026}
RAW_ID = "350602201905010016"


def _as(token, role: str, code: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(role, code)}"}


async def test_r51_the_county_audit_lists_its_problem_records_masked_and_as_a_spreadsheet(
    start_app, dedupe_stub, token
):
    registry = await start_app(create_app, RegistrySettings, scheduler_enabled=False)
    schools = {"3506020001": RAW_ID, "3506020002": None, "3506030001": None}
    async with dedupe_stub():
        for n, (school, id_number) in enumerate(schools.items()):
            body = {**STUDENT, "school_code": school, "name": f"陈{n}", "id_number": id_number}
            created = await registry.post("/v1/students", json=body, headers=_as(token, "school", school))
            assert created.status_code == 201, created.text

    county = _as(token, "county", "350602")
    report = (await registry.get("/v1/audit", headers=county)).json()
    assert report["jurisdiction"] == "350602" and report["records_audited"] == 2  # not the other county's
    assert report["counts"]["missing_status_file"] == 2
    assert {p["school_code"] for p in report["problems"]} == {"3506020001", "3506020002"}
    assert RAW_ID not in str(report)

    one_school = (await registry.get("/v1/audit", params={"jurisdiction": "3506020002"}, headers=county)).json()
    assert one_school["records_audited"] == 1
    outside = await registry.get("/v1/audit", params={"jurisdiction": "350603"}, headers=county)
    assert outside.status_code == 403  # R50

    sheet = await registry.get("/v1/audit.xlsx", headers=county)
    assert sheet.status_code == 200
    assert "attachment" in sheet.headers["content-disposition"]
    book = load_workbook(io.BytesIO(sheet.content))
    rows = list(book["学籍数据核查"].iter_rows(values_only=True))
    assert rows[0][:3] == ("学校代码", "学生标识", "学籍号（脱敏）") and rows[1][0] == "school_code"
    assert len(rows) == 2 + 2
    assert all("*" in str(row[2]) for row in rows[2:]) and RAW_ID not in str(rows)

"""Hunan as a second province, the transfer (issue 20): every service runs on Hunan's policy (XUEJI_PROVINCE=43,
hn.yaml). A Hunan school enrolls a pupil in the registry, the pupil's record reaches transfer's projection (R28),
a transfer between two Hunan counties goes through every step (R21) with the materials of Hunan's checklist — the
national default of 003 Q11, two items (R30) — and the registry ends with the pupil enrolled at the receiving school.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from xueji_dedupe.app import create_app as create_dedupe
from xueji_dedupe.settings import DedupeSettings
from xueji_registry.app import create_app as create_registry
from xueji_registry.settings import RegistrySettings
from xueji_transfer.app import create_app as create_transfer
from xueji_transfer.settings import TransferSettings

pytestmark = pytest.mark.integration
SENDING, RECEIVING = "4301020003", "4301030001"  # 芙蓉区 -> 天心区, Changsha: two counties, one city
PUPIL = {"school_code": SENDING, "name": "易思远", "gender": "male", "birth_date": "2016-03-09", "grade": 4,
         "school_year": 2026}  # fmt: skip
MONDAY = datetime(2026, 10, 12, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
STAGES = ("receiving_school", "receiving_bureau", "sending_school", "sending_bureau")


def _as(token: Any, role: str, code: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(role, code)}"}


def _evidence(kind: str) -> dict[str, str]:
    return {"kind": kind, "uri": f"s3://evidence/{kind}.pdf", "sha256": hashlib.sha256(kind.encode()).hexdigest()}


def _party(token: Any, stage: str) -> dict[str, str]:
    school = RECEIVING if stage.startswith("receiving") else SENDING
    return _as(token, "school", school) if stage.endswith("school") else _as(token, "county", school[:6])


async def test_r21_r30_a_hunan_transfer_runs_end_to_end_on_hunan_s_policy(start_app, token, wait_for) -> None:
    await start_app(create_dedupe, DedupeSettings, national_enabled=False, province="43")
    registry = await start_app(create_registry, RegistrySettings, scheduler_enabled=False, province="43")
    transfer = await start_app(create_transfer, TransferSettings, scheduler_enabled=False, province="43")
    transfer.app.state.transfer.clock = lambda: MONDAY
    sending, receiving = _as(token, "school", SENDING), _as(token, "school", RECEIVING)

    created = await registry.post("/v1/students", json=PUPIL, headers=sending)
    assert created.status_code == 201, created.text
    student = created.json()["student_id"]
    assert created.json()["status_number_masked"][1:3] == "43"  # a number of a Hunan county
    records = transfer.app.state.records
    await wait_for(lambda: records.find(student))  # the registry's message reached transfer's projection (R28)

    application = {
        "student_id": student, "sending": {"code": SENDING}, "receiving": {"code": RECEIVING},
        "grade": 4, "target_grade": 4, "term": {"start": "2026-09-01", "end": "2027-01-22", "semester": 1},
        "reason": "household_move", "materials": [_evidence("status_basic_info")],
    }  # fmt: skip
    applied = await transfer.post("/v1/transfers", json={"application": application}, headers=receiving)
    assert applied.status_code == 201, applied.text
    case = f"/v1/transfers/{applied.json()['transfer_id']}"
    examined = await transfer.post(f"{case}/examination", json={"conditions_met": True, "vacancy": True},
                                   headers=receiving)  # fmt: skip
    assert examined.status_code == 200, examined.text

    # Hunan's checklist is the national one (003 Q11): the basic-information sheet and the guardian's signed
    # statement. With the certificate image but without the statement step 3 is refused naming what is missing.
    image = {"materials": [_evidence("certificate_image")]}
    assert (await transfer.post(f"{case}/materials", json=image, headers=receiving)).status_code == 200
    early = await transfer.post(f"{case}/stages/receiving_school/decision", json={"decision": "approve"},
                                headers=receiving)  # fmt: skip
    assert early.status_code == 422 and early.json()["rule"] == "R30", early.text
    missing = early.json()["reason"].split("missing:")[1]
    assert "registration_form" in missing and "household_register" not in missing  # not Fujian's five
    statement = {"materials": [_evidence("registration_form")]}
    added = await transfer.post(f"{case}/materials", json=statement, headers=receiving)
    assert added.status_code == 200, added.text

    for stage in STAGES:
        decided = await transfer.post(f"{case}/stages/{stage}/decision", json={"decision": "approve"},
                                      headers=_party(token, stage))  # fmt: skip
        assert decided.status_code == 200, decided.text
    notified = await transfer.post(f"{case}/notify-to-report", headers=receiving)
    assert notified.status_code in (200, 201), notified.text
    reported = await transfer.post(f"{case}/report", json={"electronic_file": _evidence("electronic_file")},
                                   headers=receiving)  # fmt: skip
    assert reported.status_code in (200, 201), reported.text
    assert reported.json()["phase"] == "completed", reported.text

    async def moved() -> bool:
        found = await registry.get(f"/v1/students/{student}", headers=receiving)
        return found.status_code == 200 and found.json()["school_code"] == RECEIVING

    await wait_for(moved)  # the registry followed transfer.case.v1
    record = (await registry.get(f"/v1/students/{student}", headers=receiving)).json()
    assert record["state"] == "enrolled", record
    assert (await registry.get(f"/v1/students/{student}", headers=sending)).status_code in (403, 404)

"""Registry and transfer together over the real broker and store (R28): the transfer service takes a student's
status, school and grade from the registry's record (its projection of student.status.v1), not from the form."""

from __future__ import annotations

import hashlib
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from xueji_dedupe.app import create_app as create_dedupe
from xueji_dedupe.settings import DedupeSettings
from xueji_registry.app import create_app as create_registry
from xueji_registry.settings import RegistrySettings
from xueji_transfer.app import create_app as create_transfer
from xueji_transfer.settings import TransferSettings

pytestmark = pytest.mark.integration
SCHOOL, RECEIVING = "3506020201", "3501020003"
PUPIL = {"school_code": SCHOOL, "name": "许安然", "gender": "female", "birth_date": "2016-05-02", "grade": 4,
         "school_year": 2026}  # fmt: skip
TERM = {"school_year": 2026, "term": 1}
MATERIALS = ("registration_form", "status_basic_info", "household_register", "reason_proof", "certificate_image")
MONDAY = datetime(2026, 10, 12, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def _as(token, role: str, code: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(role, code)}"}


def _evidence(kind: str) -> dict[str, str]:
    return {"kind": kind, "uri": f"s3://evidence/{kind}.pdf", "sha256": hashlib.sha256(kind.encode()).hexdigest()}


def _application(student_id: str, **changes: object) -> dict[str, object]:
    return {
        "student_id": student_id, "status": "enrolled", "sending": {"code": SCHOOL}, "receiving": {"code": RECEIVING},
        "grade": 4, "target_grade": 4, "term": {"start": "2026-09-01", "end": "2027-01-22", "semester": 1},
        "reason": "household_move", "materials": [_evidence(kind) for kind in MATERIALS], **changes,
    }  # fmt: skip


async def test_r28_a_student_the_registry_suspended_is_refused_by_transfer_whatever_the_form_says(
    start_app, token, wait_for
):
    await start_app(create_dedupe, DedupeSettings, national_enabled=False)
    registry = await start_app(create_registry, RegistrySettings, scheduler_enabled=False)
    transfer = await start_app(create_transfer, TransferSettings, scheduler_enabled=False)
    transfer.app.state.transfer.clock = lambda: MONDAY
    records = transfer.app.state.records
    school, county = _as(token, "school", SCHOOL), _as(token, "county", "350602")
    created = await registry.post("/v1/students", json=PUPIL, headers=school)
    assert created.status_code == 201, created.text
    student = created.json()["student_id"]
    await wait_for(lambda: records.find(student))  # the registry's status message reached transfer

    async def apply(app: dict[str, object]):
        return await transfer.post("/v1/transfers", json={"application": app}, headers=_as(token, "school", RECEIVING))

    # The form contradicts the record: another grade, another sending school. Each is refused naming the field.
    wrong_grade = await apply(_application(student, grade=5, target_grade=5))
    assert wrong_grade.status_code == 422 and wrong_grade.json()["detail"][0]["field"] == "application.grade"
    wrong_school = await apply(_application(student, sending={"code": "3506020202"}))
    assert wrong_school.status_code == 422 and wrong_school.json()["detail"][0]["field"] == "application.sending"

    # A true application goes ahead and is examined; the receiving school has not initiated it yet (step 3).
    accepted = await apply(_application(student))
    assert accepted.status_code == 201, accepted.text
    case = f"/v1/transfers/{accepted.json()['transfer_id']}"
    receiving = _as(token, "school", RECEIVING)
    examined = await transfer.post(f"{case}/examination", json={"conditions_met": True, "vacancy": True},
                                   headers=receiving)  # fmt: skip
    assert examined.status_code == 200, examined.text

    changes = f"/v1/students/{student}/changes"
    suspend = {"reason": "因病休学", "details": {"kind": "suspend", "cause": "illness", "term": TERM},
               "evidence": [_evidence("suspension_application"), _evidence("medical_certificate")]}  # fmt: skip
    asked = await registry.post(changes, json=suspend, headers=school)
    assert asked.status_code == 200, asked.text
    review = f"{changes}/{asked.json()['pending_changes'][0]['change_id']}/review"
    approved = await registry.post(review, json={"approve": True, "reason": "材料齐全"}, headers=county)
    assert approved.json()["state"] == "suspended", approved.text

    async def suspended() -> bool:
        record = await records.find(student)
        return record is not None and record.state == "suspended"

    await wait_for(suspended)
    declared_enrolled = await apply(_application(student))  # was accepted (201) when the form was trusted
    assert declared_enrolled.status_code == 422, declared_enrolled.text
    assert declared_enrolled.json()["rule"] == "R28"
    assert declared_enrolled.json()["detail"][0]["field"] == "application.status"
    assert "suspended" in declared_enrolled.json()["reason"]
    undeclared = await apply(_application(student, status=None))
    assert undeclared.status_code == 422 and "resume" in undeclared.json()["reason"]

    # The case applied for before the suspension is not initiated either: the record is asked again at step 3.
    initiated = await transfer.post(f"{case}/stages/receiving_school/decision", json={"decision": "approve"},
                                    headers=receiving)  # fmt: skip
    assert initiated.status_code == 422 and initiated.json()["rule"] == "R28", initiated.text

    unknown = await apply(_application("stu_nobody"))
    assert unknown.status_code == 422 and unknown.json()["rule"] == "R28"
    assert unknown.json()["detail"][0]["field"] == "application.student_id"

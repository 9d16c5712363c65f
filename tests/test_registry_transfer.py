"""Registry and transfer together over the real broker and store (R28): the transfer service takes a student's
status, school and grade from the registry's record (its projection of student.status.v1), not from the form."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from xueji_contracts.calendar import local_date
from xueji_dedupe.app import create_app as create_dedupe
from xueji_dedupe.settings import DedupeSettings
from xueji_registry.app import create_app as create_registry
from xueji_registry.domain.periods import term_of
from xueji_registry.settings import RegistrySettings
from xueji_transfer.app import create_app as create_transfer
from xueji_transfer.settings import TransferSettings

pytestmark = pytest.mark.integration
SCHOOL, RECEIVING = "3506020201", "3501020003"
PUPIL = {"school_code": SCHOOL, "name": "许安然", "gender": "female", "birth_date": "2016-05-02", "grade": 4,
         "school_year": 2026}  # fmt: skip
# R40 judges the suspension by the day the registry is asked (its own clock), so the request names today's semester.
TERM = term_of(local_date(datetime.now(UTC))).model_dump(mode="json")
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


PRIMARY, JUNIOR = "3506020601", "3506020602"
GRADUATE = {"school_code": PRIMARY, "name": "林思远", "id_number": "350602201403150043", "gender": "male",
            "birth_date": "2014-03-15", "grade": 6, "school_year": 2025}  # fmt: skip
PROGRESSION_MATERIALS = ("registration_form", "status_basic_info", "household_register", "certificate_image")


async def test_r07_r28_r33_a_graduate_s_progression_is_recorded_by_the_registry_and_its_rollback_restores_the_graduate(
    start_app, token, wait_for
):
    """The defect: transfer completed a graduate's progression inside the province but the registry refused it (R28,
    'graduated') and dead-lettered it, so the registry never showed the student at the new school, and the R33
    rollback undid a case the registry never applied. Now the registry enrolls the graduate at the receiving school
    in the next segment with that school's junior number (R07), and the rollback makes the record the graduating
    school's graduate again; redelivered outcomes change nothing."""
    await start_app(create_dedupe, DedupeSettings, national_enabled=False)
    registry = await start_app(create_registry, RegistrySettings, scheduler_enabled=False)
    transfer = await start_app(create_transfer, TransferSettings, scheduler_enabled=False)
    transfer.app.state.transfer.clock = lambda: MONDAY
    records = transfer.app.state.records
    primary, junior, county = (
        _as(token, "school", PRIMARY),
        _as(token, "school", JUNIOR),
        _as(token, "county", "350602"),
    )
    created = await registry.post("/v1/students", json=GRADUATE, headers=primary)
    assert created.status_code == 201, created.text
    student = created.json()["student_id"]
    graduate = {"reason": "小学毕业", "details": {"kind": "graduate", "graduation_year": 2026}}  # the school's digits
    done = await registry.post(f"/v1/students/{student}/changes", json=graduate, headers=primary)
    assert done.status_code == 200 and done.json()["state"] == "graduated", done.text

    async def in_transfer_as_graduated() -> bool:
        found = await records.find(student)
        return found is not None and found.state == "graduated"

    await wait_for(in_transfer_as_graduated)
    application = {"kind": "progression", "student_id": student, "status": "graduated", "graduated_on": "2026-07-01",
                   "sending": {"code": PRIMARY}, "receiving": {"code": JUNIOR}, "grade": 6, "target_grade": 7,
                   "reason": "household_move", "household_register_changed": True,
                   "materials": [_evidence(kind) for kind in PROGRESSION_MATERIALS]}  # fmt: skip
    applied = await transfer.post("/v1/transfers", json={"application": application}, headers=junior)
    assert applied.status_code == 201, applied.text
    case = f"/v1/transfers/{applied.json()['transfer_id']}"
    steps = [(junior, "examination", {"conditions_met": True, "vacancy": True})]
    steps += [(headers, f"stages/{stage}/decision", {"decision": "approve"}) for headers, stage in (
        (junior, "receiving_school"), (county, "receiving_bureau"), (primary, "sending_school"),
        (county, "sending_bureau"))]  # fmt: skip
    steps += [(junior, "notify-to-report", None), (junior, "report", {"electronic_file": _evidence("electronic_file")})]
    for headers, step, body in steps:
        answer = await transfer.post(f"{case}/{step}", json=body, headers=headers)
        assert answer.status_code in (200, 201), f"{step}: {answer.text}"
    assert answer.json()["phase"] == "completed"

    async def view(headers: dict[str, str], **expected: object) -> dict | None:
        found = (await registry.get(f"/v1/students/{student}", headers=headers)).json()
        return found if all(found.get(k) == v for k, v in expected.items()) else None

    async def numbered_at_junior() -> dict | None:
        found = await view(county, state="enrolled", school_code=JUNIOR)
        return found if found and "junior" in found.get("supplementary_numbers", {}) else None

    moved = await wait_for(numbered_at_junior)
    assert (moved["segment"], moved["grade"]) == ("junior", 7)
    numbers = moved["supplementary_numbers"]
    assert numbers["junior"].startswith("226") and numbers["junior"].endswith("0001")  # R07: the junior school's
    assert numbers["primary"].startswith("125")  # the primary number stays in the record

    rolled = await transfer.post(f"{case}/rollback", json={"reason": "误录入其他学校，退回毕业学校"}, headers=county)
    assert rolled.status_code == 200 and rolled.json()["phase"] == "rolled_back", rolled.text
    back = await wait_for(lambda: view(county, state="graduated", school_code=PRIMARY))
    assert (back["segment"], back["grade"]) == ("primary", 6)
    history = (await registry.get(f"/v1/students/{student}/history", headers=county)).json()["history"]
    moves = [e for e in history if e["type"] in ("freshman_registered", "progression_rolled_back")]
    assert [e["type"] for e in moves] == ["freshman_registered", "progression_rolled_back"]  # once each
    assert moves[1]["by"]["role"] == "county" and moves[1]["reason"] == "误录入其他学校，退回毕业学校"  # R33

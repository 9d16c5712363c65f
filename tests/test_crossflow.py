"""One student in several workflows at once, over the real broker and store (registry, dedupe, transfer).

Each workflow is tested on its own elsewhere; here they meet on one student. What must hold whatever the order: one
record, one current school, the history kept (R12), no transfer completing onto a record that moved elsewhere, and a
refusal naming the rule and the field, never a 500.

Where RULES.md is silent, the choice is what a county bureau would expect, said at the test:
- A guardian may apply at two receiving schools (R20: admission is never blocked by status), so a second open case
  is not refused at step 1; the sending side (steps 5-6) and the report (step 8) are checked against the registry's
  record, so only the first case to complete moves the student, and the other is refused naming R21 and `sending`.
- A suspension (R40) or a graduation during an open transfer is the school's and county's to record; the open case
  then stops at the sending side's next verification (R28), it does not block the suspension.
"""

from __future__ import annotations

import asyncio
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
SCHOOL, RECEIVING, NEIGHBOUR = "3506020201", "3501020003", "3506020202"
COUNTY, RECEIVING_COUNTY = "350602", "350102"
PUPIL = {"school_code": SCHOOL, "name": "陈雨桐", "gender": "female", "birth_date": "2016-05-02", "grade": 4,
         "school_year": 2026}  # fmt: skip
TERM = term_of(local_date(datetime.now(UTC))).model_dump(mode="json")  # R40 judges by the registry's own clock
MATERIALS = ("registration_form", "status_basic_info", "household_register", "reason_proof", "certificate_image")
MONDAY = datetime(2026, 10, 12, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def _as(token, role: str, code: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(role, code)}"}


def _evidence(kind: str) -> dict[str, str]:
    return {"kind": kind, "uri": f"s3://evidence/{kind}.pdf", "sha256": hashlib.sha256(kind.encode()).hexdigest()}


def _application(student_id: str, receiving: str, grade: int = 4) -> dict[str, object]:
    return {
        "student_id": student_id, "status": "enrolled", "sending": {"code": SCHOOL}, "receiving": {"code": receiving},
        "grade": grade, "target_grade": grade, "term": {"start": "2026-09-01", "end": "2027-01-22", "semester": 1},
        "reason": "household_move", "materials": [_evidence(kind) for kind in MATERIALS],
    }  # fmt: skip


class Province:
    """The three services and the operators of one scenario."""

    def __init__(self, dedupe, registry, transfer, token, wait_for) -> None:
        self.dedupe, self.registry, self.transfer, self.token, self.wait_for = (
            dedupe,
            registry,
            transfer,
            token,
            wait_for,
        )
        self.records = transfer.app.state.records
        self.province_office = _as(token, "province", "350000")  # reads the record wherever it moved

    def school(self, code: str) -> dict[str, str]:
        return _as(self.token, "school", code)

    def county(self, code: str) -> dict[str, str]:
        return _as(self.token, "county", code)

    async def enroll(self, **changes: object) -> str:
        pupil = PUPIL | changes
        created = await self.registry.post("/v1/students", json=pupil, headers=self.school(SCHOOL))
        assert created.status_code in (201, 202), created.text  # 202: the duplicate check answers a moment later
        student = created.json()["student_id"]
        await self.wait_for(lambda: self.transfer_sees(student, state="enrolled"))
        return student

    async def apply(self, student: str, receiving: str, grade: int = 4):
        body = {"application": _application(student, receiving, grade)}
        return await self.transfer.post("/v1/transfers", json=body, headers=self.school(receiving))

    def parties(self, receiving: str) -> dict[str, dict[str, str]]:
        receiving_county = RECEIVING_COUNTY if receiving == RECEIVING else COUNTY
        return {
            "receiving_school": self.school(receiving), "receiving_bureau": self.county(receiving_county),
            "sending_school": self.school(SCHOOL), "sending_bureau": self.county(COUNTY),
        }  # fmt: skip

    async def step(self, case: str, receiving: str, step: str, body: object = None):
        """One step of the case: `examination`, a stage's name (approved), `notify-to-report` or `report`."""
        parties = self.parties(receiving)
        if step in parties:
            path, body, headers = f"stages/{step}/decision", body or {"decision": "approve"}, parties[step]
        else:
            headers = parties["receiving_school"]
            body = body or {
                "examination": {"conditions_met": True, "vacancy": True},
                "report": {"electronic_file": _evidence("electronic_file")},
            }.get(step)
            path = step
        return await self.transfer.post(f"/v1/transfers/{case}/{path}", json=body, headers=headers)

    async def through(self, case: str, receiving: str, *steps: str) -> None:
        for step in steps:
            answer = await self.step(case, receiving, step)
            assert answer.status_code in (200, 201), f"{step}: {answer.text}"

    async def record(self, student: str) -> dict:
        return (await self.registry.get(f"/v1/students/{student}", headers=self.province_office)).json()

    async def history(self, student: str) -> list[dict]:
        answer = await self.registry.get(f"/v1/students/{student}/history", headers=self.province_office)
        return answer.json()["history"]

    async def transfer_sees(self, student: str, **expected: object) -> bool:
        found = await self.records.find(student)
        return found is not None and all(getattr(found, k) == v for k, v in expected.items())


@pytest.fixture
async def province(start_app, token, wait_for) -> Province:
    dedupe = await start_app(create_dedupe, DedupeSettings, national_enabled=False)
    registry = await start_app(create_registry, RegistrySettings, scheduler_enabled=False)
    transfer = await start_app(create_transfer, TransferSettings, scheduler_enabled=False)
    transfer.app.state.transfer.clock = lambda: MONDAY
    return Province(dedupe, registry, transfer, token, wait_for)


UP_TO_SENDING = ("examination", "receiving_school", "receiving_bureau")
TO_THE_END = ("sending_school", "sending_bureau", "notify-to-report", "report")


def _refused(answer, rule: str, field: str) -> None:
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert body["rule"] == rule, body
    assert any(field in problem["field"] for problem in body["detail"]), body


async def test_r21_two_open_transfers_only_the_first_to_complete_moves_the_student(province: Province):
    """Two receiving schools, both cases past step 4 (RULES is silent on a second application: a guardian may apply
    at two schools, R20). The first completes and the registry moves the student there. The second's sending school
    then verifies a student who is no longer its pupil: refused naming R21 and `sending`, and the record stays at the
    first receiving school with one move in its history (R12), whatever the second case does next."""
    student = await province.enroll()
    first, second = await province.apply(student, RECEIVING), await province.apply(student, NEIGHBOUR)
    assert first.status_code == 201 and second.status_code == 201, (first.text, second.text)
    first_case, second_case = first.json()["transfer_id"], second.json()["transfer_id"]
    await province.through(first_case, RECEIVING, *UP_TO_SENDING)
    await province.through(second_case, NEIGHBOUR, *UP_TO_SENDING)
    await province.through(first_case, RECEIVING, *TO_THE_END)
    await province.wait_for(lambda: province.transfer_sees(student, school_code=RECEIVING))

    late = await province.step(second_case, NEIGHBOUR, "sending_school")
    _refused(late, "R21", "sending")
    assert RECEIVING in late.json()["reason"]
    # The sending school closes the case it can no longer verify, on the grounds the sending side may give.
    stale = {"decision": "reject", "reason_code": "status_ineligible", "reason": "学生已转入其他学校"}
    closed = await province.step(second_case, NEIGHBOUR, "sending_school", stale)
    assert closed.status_code == 200 and closed.json()["phase"] == "rejected", closed.text
    record = await province.record(student)
    assert (record["school_code"], record["state"]) == (RECEIVING, "enrolled")
    moves = [e for e in await province.history(student) if e["type"] == "transferred_in"]
    assert len(moves) == 1 and moves[0]["to_school"] == RECEIVING


async def test_r21_two_cases_reporting_at_once_move_the_record_once(province: Province):
    """Both cases have all three consents (step 7) when the student reports at both schools within a second: the
    transfer service may not have heard of the first move yet, but the registry moves the record once, from the
    sending school; a completion whose sending school is no longer the student's is not applied (the first stays)."""
    student = await province.enroll()
    cases = []
    for receiving in (RECEIVING, NEIGHBOUR):
        applied = await province.apply(student, receiving)
        assert applied.status_code == 201, applied.text
        cases.append(applied.json()["transfer_id"])
        await province.through(cases[-1], receiving, *UP_TO_SENDING, "sending_school", "sending_bureau",
                               "notify-to-report")  # fmt: skip
    reports = await asyncio.gather(
        province.step(cases[0], RECEIVING, "report"), province.step(cases[1], NEIGHBOUR, "report")
    )
    assert all(r.status_code in (200, 422) for r in reports), [r.text for r in reports]
    assert any(r.status_code == 200 for r in reports), [r.text for r in reports]

    async def moved() -> list[dict]:
        return [e for e in await province.history(student) if e["type"] == "transferred_in"]

    first = (await province.wait_for(moved))[0]["to_school"]  # whichever completion the registry applied first
    await province.wait_for(lambda: province.transfer_sees(student, school_code=first))
    await asyncio.sleep(3)  # the other completion, if any, has reached the registry by now
    record = await province.record(student)
    assert record["school_code"] == first, record
    assert [m["to_school"] for m in await moved()] == [first]


async def test_r28_a_suspension_during_an_open_transfer_stops_it_at_the_sending_school(province: Province):
    """The school and county suspend the student (R40) while a transfer waits on the sending school (step 5). The
    suspension is theirs to record; the sending school's verification of the transfer is then refused (R28: a
    suspended student first resumes at the original school), and the record stays at the sending school."""
    student = await province.enroll()
    applied = await province.apply(student, RECEIVING)
    case = applied.json()["transfer_id"]
    await province.through(case, RECEIVING, *UP_TO_SENDING)
    changes = f"/v1/students/{student}/changes"
    suspend = {"reason": "因病休学", "details": {"kind": "suspend", "cause": "illness", "term": TERM},
               "evidence": [_evidence("suspension_application"), _evidence("medical_certificate")]}  # fmt: skip
    asked = await province.registry.post(changes, json=suspend, headers=province.school(SCHOOL))
    assert asked.status_code == 200, asked.text
    review = f"{changes}/{asked.json()['pending_changes'][0]['change_id']}/review"
    approved = await province.registry.post(review, json={"approve": True, "reason": "材料齐全"},
                                            headers=province.county(COUNTY))  # fmt: skip
    assert approved.json()["state"] == "suspended", approved.text
    await province.wait_for(lambda: province.transfer_sees(student, state="suspended"))

    verified = await province.step(case, RECEIVING, "sending_school")
    _refused(verified, "R28", "status")
    assert "resume" in verified.json()["reason"]
    record = await province.record(student)
    assert (record["school_code"], record["state"]) == (SCHOOL, "suspended")


async def test_r28_a_student_graduated_during_an_open_transfer_is_not_transferred(province: Province):
    """The sending school graduates the student while an ordinary transfer waits on the sending bureau (step 6): a
    graduate moves on only by a progression (R28), so the bureau's verification is refused and the graduate stays."""
    student = await province.enroll(grade=6, birth_date="2014-05-02", school_year=2026)
    applied = await province.apply(student, RECEIVING, grade=6)
    assert applied.status_code == 201, applied.text
    case = applied.json()["transfer_id"]
    await province.through(case, RECEIVING, *UP_TO_SENDING, "sending_school")
    graduate = {"reason": "小学毕业", "details": {"kind": "graduate", "graduation_year": 2026}}
    done = await province.registry.post(f"/v1/students/{student}/changes", json=graduate,
                                        headers=province.school(SCHOOL))  # fmt: skip
    assert done.status_code == 200 and done.json()["state"] == "graduated", done.text
    await province.wait_for(lambda: province.transfer_sees(student, state="graduated"))
    verified = await province.step(case, RECEIVING, "sending_bureau")
    _refused(verified, "R28", "status")
    record = await province.record(student)
    assert (record["school_code"], record["state"]) == (SCHOOL, "graduated")


async def test_r21_r50_one_stage_decided_at_once_by_two_clerks_takes_one_decision(province: Province):
    """Two clerks of the receiving bureau decide step 4 at the same instant, one approving and one refusing: one
    decision is recorded, the other is told the stage is no longer open (409 naming R21, the stage and the case's
    state), never a 500;
    a clerk of a county that does not cover the school is refused (R50) and changes nothing."""
    student = await province.enroll()
    applied = await province.apply(student, RECEIVING)
    case = applied.json()["transfer_id"]
    await province.through(case, RECEIVING, "examination", "receiving_school")
    outsider = await province.transfer.post(
        f"/v1/transfers/{case}/stages/receiving_bureau/decision", json={"decision": "approve"},
        headers=province.county("350603"),
    )  # fmt: skip
    assert outsider.status_code in (403, 404), outsider.text
    bureau = province.county(RECEIVING_COUNTY)
    refuse = {"decision": "reject", "reason_code": "other", "reason": "学位已满"}
    answers = await asyncio.gather(
        province.transfer.post(f"/v1/transfers/{case}/stages/receiving_bureau/decision",
                               json={"decision": "approve"}, headers=bureau),
        province.transfer.post(f"/v1/transfers/{case}/stages/receiving_bureau/decision", json=refuse, headers=bureau),
    )  # fmt: skip
    codes = sorted(a.status_code for a in answers)
    assert codes == [200, 409], [a.text for a in answers]  # the loser is told the case's state, naming the stage
    loser = next(a for a in answers if a.status_code == 409).json()
    assert loser["rule"] == "R21" and "receiving_bureau stage is not open" in loser["reason"], loser
    detail = (await province.transfer.get(f"/v1/transfers/{case}", headers=bureau)).json()
    decided = [e for e in detail["history"] if e.get("stage") == "receiving_bureau" and e["type"] in (
        "stage_approved", "transfer_rejected")]  # fmt: skip
    assert len(decided) == 1, decided


async def test_r21_a_decision_retried_with_its_key_and_another_body_is_refused(province: Province):
    """A clerk's approval is retried with the same Idempotency-Key but the opposite decision (a second click after
    changing the answer): the key names the first request, so the retry does not silently answer with the approval
    as if it were the refusal. RULES is silent; the bureau expects to be told (422 naming the key) rather than
    believe a refusal was recorded."""
    student = await province.enroll()
    applied = await province.apply(student, RECEIVING)
    case = applied.json()["transfer_id"]
    await province.through(case, RECEIVING, "examination", "receiving_school")
    path = f"/v1/transfers/{case}/stages/receiving_bureau/decision"
    bureau = province.county(RECEIVING_COUNTY) | {"Idempotency-Key": "decide-once-4711"}
    approved = await province.transfer.post(path, json={"decision": "approve"}, headers=bureau)
    assert approved.status_code == 200, approved.text
    same = await province.transfer.post(path, json={"decision": "approve"}, headers=bureau)
    assert same.status_code == 200 and same.json() == approved.json()
    refuse = {"decision": "reject", "reason_code": "other", "reason": "学位已满"}
    changed = await province.transfer.post(path, json=refuse, headers=bureau)
    assert changed.status_code == 422, changed.text
    assert changed.json()["detail"][0]["field"] == "Idempotency-Key", changed.text
    after = (await province.transfer.get(f"/v1/transfers/{case}", headers=bureau)).json()
    assert (after["phase"], after["open_stage"]["stage"]) == ("active", "sending_school"), after  # the approval stands


async def test_r10_r50_a_key_information_change_pending_when_the_student_transfers_is_reviewed_where_the_record_is(
    province: Province,
):
    """The sending school asked for a new name (R10) and its county has not reviewed it when a transfer into another
    county completes. RULES is silent on whose review it is then; a county bureau expects the request neither lost
    (R12) nor decided by a bureau that no longer covers the student (R50): the county the student left is refused,
    the county that now holds the record reviews it, and the request stays in the history."""
    student = await province.enroll()
    changes = f"/v1/students/{student}/changes"
    rename = {"reason": "监护人提供户口簿", "details": {"kind": "key_info", "name": "陈雨彤"},
              "evidence": [_evidence("household_register")]}  # fmt: skip
    asked = await province.registry.post(changes, json=rename, headers=province.school(SCHOOL))
    assert asked.status_code == 200, asked.text
    change_id = asked.json()["pending_changes"][0]["change_id"]
    applied = await province.apply(student, RECEIVING)
    assert applied.status_code == 201, applied.text  # a pending request does not stop the transfer
    await province.through(applied.json()["transfer_id"], RECEIVING, *UP_TO_SENDING, *TO_THE_END)
    await province.wait_for(lambda: province.transfer_sees(student, school_code=RECEIVING))

    review = f"{changes}/{change_id}/review"
    approve = {"approve": True, "reason": "材料齐全"}
    old_county = await province.registry.post(review, json=approve, headers=province.county(COUNTY))
    assert old_county.status_code in (403, 404), old_county.text
    new_county = await province.registry.post(review, json=approve, headers=province.county(RECEIVING_COUNTY))
    assert new_county.status_code == 200, new_county.text
    record = await province.record(student)
    assert record["school_code"] == RECEIVING
    types = [e["type"] for e in await province.history(student)]
    assert types.index("transferred_in") < types.index("change_approved"), types


async def test_r14_r28_a_suspected_duplicate_under_review_does_not_transfer_and_the_existing_record_does(
    province: Province,
):
    """A second school enrolled the child again without an ID number (same name, birth date and guardians): a
    suspected duplicate held for the county's review (R14). Meanwhile a transfer is applied for the child's existing
    record, which goes ahead (its status is not in question), while a transfer of the held request is refused: it is
    no status yet (R28). The county then finds them the same child: the held request is closed, the existing record
    is the one record, at the school its transfer took it to."""
    family = {"guardian_name": "陈建国、黄美玲", "household_register": COUNTY}
    student = await province.enroll(basic=family)
    again = PUPIL | {"school_code": NEIGHBOUR, "basic": {"guardians": ["黄美玲"]}}
    held = await province.registry.post("/v1/students", json=again, headers=province.school(NEIGHBOUR))
    assert held.status_code in (201, 202), held.text
    held_id = held.json()["student_id"]

    async def pending() -> bool:
        view = (await province.registry.get(f"/v1/students/{held_id}", headers=province.province_office)).json()
        return view.get("state") == "pending_review"

    await province.wait_for(pending)
    body = {"application": _application(held_id, RECEIVING) | {"sending": {"code": NEIGHBOUR}}}
    refused = await province.transfer.post("/v1/transfers", json=body, headers=province.school(RECEIVING))
    assert refused.status_code == 422, refused.text
    assert refused.json()["rule"] in ("R28", "R14", "R20"), refused.text

    applied = await province.apply(student, RECEIVING)
    assert applied.status_code == 201, applied.text
    await province.through(applied.json()["transfer_id"], RECEIVING, *UP_TO_SENDING, *TO_THE_END)
    await province.wait_for(lambda: province.transfer_sees(student, school_code=RECEIVING))
    dedupe = province.dedupe
    county = province.county(COUNTY)
    cases = (await dedupe.get("/v1/review-cases", params={"state": "open"}, headers=county)).json()["cases"]
    [case] = [c for c in cases if c["student_id"] == held_id]
    decided = await dedupe.post(f"/v1/review-cases/{case['case_id']}/decision",
                                json={"decision": "same_person", "reason": "户口簿相同"}, headers=county)  # fmt: skip
    assert decided.status_code == 200, decided.text

    async def closed() -> dict | None:
        view = (await province.registry.get(f"/v1/students/{held_id}", headers=province.province_office)).json()
        return view if view.get("closed") else None

    await province.wait_for(closed)
    record = await province.record(student)
    assert (record["school_code"], record["state"], record["closed"]) == (RECEIVING, "enrolled", False)


PRIMARY, JUNIOR, OTHER_JUNIOR = "3506020601", "3506020602", "3506020603"
GRADUATE = {"school_code": PRIMARY, "name": "林思远", "id_number": "350602201403150043", "gender": "male",
            "birth_date": "2014-03-15", "grade": 6, "school_year": 2025}  # fmt: skip
PROGRESSION_MATERIALS = ("registration_form", "status_basic_info", "household_register", "certificate_image")


async def test_r33_r21_a_rollback_while_the_student_s_next_transfer_is_open_stops_that_transfer(province: Province):
    """A graduate moved on to a junior school (a progression, completed) and applied to transfer on to another junior
    school; while that case waits on the junior school's verification (step 5), the county rolls the progression
    back (R33): the record is the primary school's graduate again. The junior school then verifies a student who is
    no longer its own: refused naming R21 and `sending`, and the record stays the graduating school's."""
    primary, junior, county = province.school(PRIMARY), province.school(JUNIOR), province.county(COUNTY)
    created = await province.registry.post("/v1/students", json=GRADUATE, headers=primary)
    assert created.status_code in (201, 202), created.text
    student = created.json()["student_id"]
    await province.wait_for(lambda: province.transfer_sees(student, state="enrolled"))
    graduate = {"reason": "小学毕业", "details": {"kind": "graduate", "graduation_year": 2026}}
    done = await province.registry.post(f"/v1/students/{student}/changes", json=graduate, headers=primary)
    assert done.status_code == 200, done.text
    await province.wait_for(lambda: province.transfer_sees(student, state="graduated"))
    progression = {"kind": "progression", "student_id": student, "status": "graduated", "graduated_on": "2026-07-01",
                   "sending": {"code": PRIMARY}, "receiving": {"code": JUNIOR}, "grade": 6, "target_grade": 7,
                   "reason": "household_move", "household_register_changed": True,
                   "materials": [_evidence(kind) for kind in PROGRESSION_MATERIALS]}  # fmt: skip
    applied = await province.transfer.post("/v1/transfers", json={"application": progression}, headers=junior)
    assert applied.status_code == 201, applied.text
    moved_on = f"/v1/transfers/{applied.json()['transfer_id']}"
    steps = [(junior, "examination", {"conditions_met": True, "vacancy": True})]
    steps += [(headers, f"stages/{stage}/decision", {"decision": "approve"}) for headers, stage in (
        (junior, "receiving_school"), (county, "receiving_bureau"), (primary, "sending_school"),
        (county, "sending_bureau"))]  # fmt: skip
    steps += [(junior, "notify-to-report", None), (junior, "report", {"electronic_file": _evidence("electronic_file")})]
    for headers, step, body in steps:
        answer = await province.transfer.post(f"{moved_on}/{step}", json=body, headers=headers)
        assert answer.status_code in (200, 201), f"{step}: {answer.text}"
    await province.wait_for(lambda: province.transfer_sees(student, school_code=JUNIOR, state="enrolled", grade=7))

    # The next transfer: the first semester of junior grade 1 needs the receiving county's exception (R27).
    proof = _evidence("reason_proof")
    exception = {"rule": "R27", "clause": "first_grade_first_semester", "student_id": student,
                 "receiving_school": OTHER_JUNIOR, "reason": "监护人工作调动，学生须随迁", "evidence": [proof]}  # fmt: skip
    recorded = await province.transfer.post("/v1/exceptions", json=exception, headers=county)
    assert recorded.status_code == 201, recorded.text
    onward = _application(student, OTHER_JUNIOR, grade=7) | {"sending": {"code": JUNIOR}}
    body = {"application": onward, "exception_ids": [recorded.json()["exception_id"]]}
    next_case = await province.transfer.post("/v1/transfers", json=body, headers=province.school(OTHER_JUNIOR))
    assert next_case.status_code == 201, next_case.text
    case = f"/v1/transfers/{next_case.json()['transfer_id']}"
    for headers, step, body in [
        (province.school(OTHER_JUNIOR), "examination", {"conditions_met": True, "vacancy": True}),
        (province.school(OTHER_JUNIOR), "stages/receiving_school/decision", {"decision": "approve"}),
        (county, "stages/receiving_bureau/decision", {"decision": "approve"}),
    ]:
        answer = await province.transfer.post(f"{case}/{step}", json=body, headers=headers)
        assert answer.status_code in (200, 201), f"{step}: {answer.text}"

    rolled = await province.transfer.post(
        f"{moved_on}/rollback", json={"reason": "误录入，退回毕业学校"}, headers=county
    )
    assert rolled.status_code == 200 and rolled.json()["phase"] == "rolled_back", rolled.text
    await province.wait_for(lambda: province.transfer_sees(student, school_code=PRIMARY, state="graduated"))
    verified = await province.transfer.post(f"{case}/stages/sending_school/decision", json={"decision": "approve"},
                                            headers=junior)  # fmt: skip
    _refused(verified, "R21", "sending")
    record = await province.record(student)
    assert (record["school_code"], record["state"]) == (PRIMARY, "graduated")


async def test_r23_r21_an_offline_acceptance_moves_the_student_once_and_stops_the_other_open_case(province: Province):
    """Two open cases; on a declared system failure (at the guardian's request) the first receiving school accepts
    the student offline with its bureau's signed consent (R23), and the registry shows the student there at once. That
    case's own sending side still verifies the system path (the record at its receiving school is expected) and
    completes it without a second move; the other case's sending school is refused (R21: no longer its student)."""
    student = await province.enroll()
    first, second = await asyncio.gather(province.apply(student, RECEIVING), province.apply(student, NEIGHBOUR))
    assert first.status_code == 201 and second.status_code == 201, (first.text, second.text)  # at once: no 500
    first_case, second_case = first.json()["transfer_id"], second.json()["transfer_id"]
    assert first_case != second_case
    await province.through(first_case, RECEIVING, *UP_TO_SENDING)
    await province.through(second_case, NEIGHBOUR, *UP_TO_SENDING)
    offline = f"/v1/transfers/{first_case}/offline"
    bureau, school = province.county(RECEIVING_COUNTY), province.school(RECEIVING)
    failure = {"description": "省级平台故障，数据无法传输", "guardian_requested": True}
    form = {"signed_form": _evidence("signed_registration_form"), "cause": "system_failure"}
    for path, body, headers in ((f"{offline}/system-failure", failure, bureau), (f"{offline}/consent", form, bureau),
                                (f"{offline}/acceptance", {"record": {"grade": "4"}}, school)):  # fmt: skip
        answer = await province.transfer.post(path, json=body, headers=headers)
        assert answer.status_code == 200, f"{path}: {answer.text}"
    await province.wait_for(lambda: province.transfer_sees(student, school_code=RECEIVING))

    _refused(await province.step(second_case, NEIGHBOUR, "sending_school"), "R21", "sending")
    await province.through(first_case, RECEIVING, *TO_THE_END)
    await asyncio.sleep(2)  # the completion has reached the registry: the same move, not a second one
    record = await province.record(student)
    assert (record["school_code"], record["state"]) == (RECEIVING, "enrolled")
    moves = [e for e in await province.history(student) if e["type"] == "transferred_in"]
    assert [m["to_school"] for m in moves] == [RECEIVING]

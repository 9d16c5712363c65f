"""A class sheet's refused row, corrected and uploaded again (R01, R02, R06, R14), with the registry and dedupe over
the real broker and store: a row refused at upload (R06, R02) is stored nowhere, so its correction is a new request;
a row whose request was refused later (dedupe's R01 duplicate, the county's "same person") is told as
still refused when uploaded again as it was, and is a new request, checked afresh, once corrected. The same file
again asks nothing twice."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from xueji_contracts.calendar import local_date
from xueji_contracts.messages.dedupe_review import ReviewDecision
from xueji_dedupe.app import create_app as create_dedupe
from xueji_dedupe.feed import refused_of
from xueji_dedupe.settings import DedupeSettings
from xueji_registry.app import create_app as create_registry
from xueji_registry.domain.periods import Segment
from xueji_registry.settings import RegistrySettings

pytestmark = pytest.mark.integration

SCHOOL, OTHER_SCHOOL, COUNTY = "3506020001", "3506020002", "350602"
HEADER = ["姓名", "性别", "出生日期", "身份证件号", "年级", "入学日期", "监护人姓名", "户籍所在地"]
XIAOMING = ["林小明", "男", "2019-03-15", "350602201903151237", "1", "", "", ""]
SIYU = ["陈思雨", "女", "2019-05-01", "350602201905010163", "1", "", "", ""]
# Another child of the county, enrolled elsewhere: her ID number typed into 林小明's row refuses it (R01).
XIAOHONG = {"school_code": OTHER_SCHOOL, "name": "王小红", "id_number": "350602201904200029", "gender": "female",
            "birth_date": "2019-04-20", "grade": 1, "school_year": 2026}  # fmt: skip


def _as(token, role: str, code: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(role, code)}"}


def _csv(rows: list[list[str]]) -> bytes:
    return "\n".join(",".join(r) for r in [HEADER, *rows]).encode("utf-8-sig")


async def _upload(registry, token, rows: list[list[str]], school: str = SCHOOL) -> dict[str, Any]:
    answer = await registry.post(
        "/v1/students/bulk",
        files={"file": ("class.csv", _csv(rows), "text/csv")},
        data={"school_code": school, "school_year": "2026"},
        headers=_as(token, "school", school),
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def _counts(answer: dict[str, Any]) -> tuple[int, int, int, int]:
    return (answer["requested"], answer["already_requested"], answer["already_requested_otherwise"],
            answer.get("still_refused", 0))  # fmt: skip


async def _settled(registry, token, student_id: str, wait_for, school: str = SCHOOL) -> dict[str, Any]:
    async def answered() -> dict[str, Any] | None:
        view = (await registry.get(f"/v1/students/{student_id}", headers=_as(token, "school", school))).json()
        return None if view.get("state") in (None, "awaiting_duplicate_check", "pending_review") else view

    return await wait_for(answered, timeout=45)


async def _apps(start_app):
    dedupe = await start_app(create_dedupe, DedupeSettings, national_enabled=False)
    return dedupe, await start_app(create_registry, RegistrySettings)


async def _released(dedupe, student_id: str, id_number: str | None) -> bool:
    """dedupe no longer holds the child it answered for a request the registry refused (the identity feed)."""
    reservations = dedupe.app.state.runtime.db["id_reservations"]
    held = student_id in dedupe.app.state.dedupe.keeper.index
    return not held and (id_number is None or await reservations.find_one({"_id": f"id:{id_number}"}) is None)


MISTYPED = [*XIAOMING[:3], "350602201903151236", *XIAOMING[4:]]  # its check character fails (R06)
IN_A_MONTH = (local_date(datetime.now(UTC)) + timedelta(days=30)).isoformat()
ADMITTED_LATER = [*XIAOMING[:5], IN_A_MONTH, *XIAOMING[6:]]  # an admission date in the future (R02)


@pytest.mark.parametrize(
    ("bad", "field", "column", "said"),
    [
        (MISTYPED, "id_number", "身份证件号", "check character"),
        (ADMITTED_LATER, "admitted_on", "入学日期", "in the future"),
    ],
    ids=["r06_mistyped_id_number", "r02_admitted_in_the_future"],
)
async def test_r06_r02_a_row_refused_at_upload_is_stored_nowhere_and_its_correction_is_enrolled(
    start_app, token, wait_for, bad, field, column, said
):
    """R06: a mistyped ID number (its check character fails), R02: an admission date after today (China time; once
    refused only after dedupe answered) refuse the row at upload, naming row, column and reason, and nothing of it is
    stored; the corrected row uploaded alone is a request like any other, and is enrolled."""
    _, registry = await _apps(start_app)
    first = await _upload(registry, token, [bad, SIYU])
    assert _counts(first) == (1, 0, 0, 0)
    [error] = first["errors"]
    assert (error["row"], error["field"], error["column"]) == (2, field, column)
    assert said in error["reason"]
    assert [s["row"] for s in first["students"]] == [3]  # nothing asked for row 2
    corrected = await _upload(registry, token, [XIAOMING])
    assert _counts(corrected) == (1, 0, 0, 0) and corrected["errors"] == []
    view = await _settled(registry, token, corrected["students"][0]["student_id"], wait_for)
    assert view["state"] == "enrolled", view


async def test_r01_a_row_refused_as_a_duplicate_is_still_refused_as_it_was_and_its_corrected_id_number_enrolled(
    start_app, token, wait_for
):
    """R01: 林小明's row carries another child's (valid) ID number, so dedupe refuses it, naming her record. Uploaded
    again as it was, the row is still refused with that reason, not counted as requested; with his own number it is
    enrolled."""
    dedupe, registry = await _apps(start_app)
    other = await registry.post("/v1/students", json=XIAOHONG, headers=_as(token, "school", OTHER_SCHOOL))
    assert other.status_code == 201, other.text
    await wait_for(lambda: _indexed(dedupe, token, 1))
    typo = [*XIAOMING[:3], XIAOHONG["id_number"], *XIAOMING[4:]]
    first = await _upload(registry, token, [typo])
    refused_id = first["students"][0]["student_id"]
    view = await _settled(registry, token, refused_id, wait_for)
    assert (view["state"], view["rule"], view["existing_student_id"]) == ("refused", "R01", other.json()["student_id"])

    again = await _upload(registry, token, [typo])
    assert _counts(again) == (0, 0, 0, 1), again
    [still] = again["refused"]
    assert still["row"] == 2 and "R01" in still["reason"] and "already has a status record" in still["reason"]
    corrected = await _upload(registry, token, [XIAOMING])
    assert _counts(corrected) == (1, 0, 0, 0), corrected
    assert (await _settled(registry, token, corrected["students"][0]["student_id"], wait_for))["state"] == "enrolled"


async def test_r14_a_row_the_county_found_the_same_person_is_still_refused_as_it_was_and_checked_afresh_once_corrected(
    start_app, token, wait_for
):
    """R14: a row without an ID number looks like an enrolled child (name, birth date, a guardian in common) and the
    county finds them the same person: the record is closed. The row uploaded again as it was is still refused, saying
    so; corrected (the clerk had typed the wrong family: another child of that name), it is a new request that dedupe
    checks afresh, and it is enrolled."""
    dedupe, registry = await _apps(start_app)
    family = {"guardian_name": "林建国、陈美华", "household_register": "350602"}
    child = {"school_code": SCHOOL, "name": XIAOMING[0], "id_number": XIAOMING[3], "gender": "male",
             "birth_date": XIAOMING[2], "grade": 1, "school_year": 2026, "basic": family}  # fmt: skip
    first_record = await registry.post("/v1/students", json=child, headers=_as(token, "school", SCHOOL))
    assert first_record.status_code == 201, first_record.text
    await wait_for(lambda: _indexed(dedupe, token, 1))

    lookalike = [*XIAOMING[:3], "", "1", "", "陈美华", ""]
    first = await _upload(registry, token, [lookalike], OTHER_SCHOOL)
    held_id = first["students"][0]["student_id"]
    county = _as(token, "county", COUNTY)

    async def case_of_the_row() -> list[dict]:
        answer = await dedupe.get("/v1/review-cases", params={"state": "open"}, headers=county)
        return [c for c in answer.json()["cases"] if c["student_id"] == held_id]

    [case] = await wait_for(case_of_the_row, timeout=45)
    decided = await dedupe.post(f"/v1/review-cases/{case['case_id']}/decision", headers=county,
                                json={"decision": ReviewDecision.SAME_PERSON.value, "reason": "the same child"})  # fmt: skip
    assert decided.status_code == 200, decided.text

    async def closed() -> bool:
        view = (await registry.get(f"/v1/students/{held_id}", headers=county)).json()
        return bool(view.get("closed"))

    await wait_for(closed, timeout=45)
    again = await _upload(registry, token, [lookalike], OTHER_SCHOOL)
    assert _counts(again) == (0, 0, 0, 1), again
    assert again["students"][0]["student_id"] == held_id
    [still] = again["refused"]
    assert still["row"] == 2 and "R14" in still["reason"] and "same person" in still["reason"]

    other_family = [*XIAOMING[:3], "", "1", "", "王志强", "350603"]
    corrected = await _upload(registry, token, [other_family], OTHER_SCHOOL)
    assert _counts(corrected) == (1, 0, 0, 0), corrected
    new_id = corrected["students"][0]["student_id"]
    assert new_id != held_id
    assert (await _settled(registry, token, new_id, wait_for, OTHER_SCHOOL))["state"] == "enrolled"


async def _indexed(dedupe, token, records: int) -> bool:
    answer = await dedupe.get("/v1/index", headers=_as(token, "province", "350000"))
    return answer.json()["records"] >= records


def _refusals_held_back(dedupe) -> Callable[[], Awaitable[None]]:
    """dedupe reads the identity feed, but its refusals (IdentityRefused) only once the returned release is awaited:
    the refusal and the corrected row's check travel on different topics, so the check may come first."""
    service = dedupe.app.state.dedupe
    follow, store = service.follow, service.store_identities
    followed: list[Any] = []
    stored: list[Any] = []

    def follow_all_but_refusals(identity: Any) -> None:
        (followed.append if refused_of(identity) is not None else follow)(identity)

    async def store_all_but_refusals(batch: list[Any], forwarded: list[Any]) -> None:
        stored.extend(m for m in batch if m is not None and refused_of(m) is not None)
        await store([m for m in batch if m is None or refused_of(m) is None], forwarded)

    async def release() -> None:
        service.follow, service.store_identities = follow, store
        for identity in followed:
            follow(identity)
        await store(stored, [])

    service.follow, service.store_identities = follow_all_but_refusals, store_all_but_refusals
    return release


async def test_r01_r02_a_corrected_row_checked_before_dedupe_reads_the_refusal_is_enrolled_not_its_duplicate(
    start_app, token, wait_for
):
    """R02 (a province whose primary school ends with grade 5): dedupe answers 林小明's row "unique", holds and reserves
    him, and the registry refuses the row (grade 6). The clerk corrects the grade and uploads again: a new request, a
    new check. dedupe reads that check before the refusal on the identity feed (held back here; two topics, no order):
    the corrected row was refused as an R01 duplicate of the refused request, a record that never was. It is enrolled,
    the refusal read late changes nothing, and another child with the same ID number is refused, naming it (R01)."""
    dedupe, registry = await _apps(start_app)
    release = _refusals_held_back(dedupe)
    service = registry.app.state.registry
    service.rules = replace(service.rules, graduation_grades={**service.rules.graduation_grades, Segment.PRIMARY: 5})
    sixth_grade = [*XIAOMING[:4], "6", *XIAOMING[5:]]
    first = (await _upload(registry, token, [sixth_grade]))["students"][0]
    view = await _settled(registry, token, first["student_id"], wait_for)
    assert (view["state"], view["rule"], view["field"]) == ("refused", "R02", "grade"), view
    assert first["student_id"] in dedupe.app.state.dedupe.keeper.index  # still held: the refusal is not read yet

    corrected = await _upload(registry, token, [XIAOMING])
    assert _counts(corrected) == (1, 0, 0, 0), corrected
    second = corrected["students"][0]
    assert second["refused_before"] == first["student_id"]
    view = await _settled(registry, token, second["student_id"], wait_for)
    assert view["state"] == "enrolled", view

    await release()
    reservations = dedupe.app.state.runtime.db["id_reservations"]
    reserved = await reservations.find_one({"_id": f"id:{XIAOMING[3]}"})
    assert reserved is not None and reserved["student_id"] == second["student_id"]  # the late refusal took nothing
    await wait_for(lambda: second["student_id"] in dedupe.app.state.dedupe.keeper.versions)
    assert first["student_id"] not in dedupe.app.state.dedupe.keeper.index
    other = {**XIAOHONG, "id_number": XIAOMING[3]}  # another child given his ID number
    refused = await registry.post("/v1/students", json=other, headers=_as(token, "school", OTHER_SCHOOL))
    assert refused.status_code == 409, refused.text
    assert (refused.json()["detail"]["rule"], refused.json()["detail"]["existing_student_id"]) == (
        "R01",
        second["student_id"],
    )


async def test_r01_r02_a_single_enrollment_naming_the_refused_request_it_corrects_is_enrolled_not_its_duplicate(
    start_app, token, wait_for
):
    """R02 (primary school ends with grade 5): POST /v1/students for 林小明 in grade 6 is answered "unique" by dedupe and
    refused by the registry. The clerk corrects the grade and sends it again, naming the refused request (`corrects`),
    before dedupe reads the refusal (held back): it is enrolled, not refused as an R01 duplicate of a record that never
    was. A `corrects` naming no request, one not refused, or another school's (answered as none, R50) is refused 422
    naming the field."""
    dedupe, registry = await _apps(start_app)
    release = _refusals_held_back(dedupe)
    service = registry.app.state.registry
    service.rules = replace(service.rules, graduation_grades={**service.rules.graduation_grades, Segment.PRIMARY: 5})
    school = _as(token, "school", SCHOOL)
    child = {"school_code": SCHOOL, "name": XIAOMING[0], "id_number": XIAOMING[3], "gender": "male",
             "birth_date": XIAOMING[2], "grade": 6, "school_year": 2026}  # fmt: skip
    first = await registry.post("/v1/students", json=child, headers=school)
    assert first.status_code == 409, first.text
    assert (first.json()["detail"]["rule"], first.json()["detail"]["field"]) == ("R02", "grade")
    refused_id = first.json()["detail"]["student_id"]
    assert refused_id in dedupe.app.state.dedupe.keeper.index  # still held: the refusal is not read yet

    siyu = {**child, "name": SIYU[0], "id_number": SIYU[3], "gender": "female", "birth_date": SIYU[2], "grade": 1}
    enrolled = await registry.post("/v1/students", json=siyu, headers=school)
    assert enrolled.status_code == 201, enrolled.text
    for named, said in [("stu_" + "0" * 32, "no enrollment request"), (enrolled.json()["student_id"], "not refused")]:
        wrong = await registry.post("/v1/students", json={**child, "grade": 1, "corrects": named}, headers=school)
        assert wrong.status_code == 422, wrong.text
        [problem] = wrong.json()["detail"]
        assert problem["field"] == "corrects" and said in problem["reason"], problem
    elsewhere = {**XIAOHONG, "corrects": refused_id}
    wrong = await registry.post("/v1/students", json=elsewhere, headers=_as(token, "school", OTHER_SCHOOL))
    assert wrong.status_code == 422, wrong.text
    # R50: another school's refused request is answered as a missing one, its state not said
    assert (
        wrong.json()["detail"][0]["reason"]
        == f"R01: no enrollment request {refused_id} of school {OTHER_SCHOOL} to correct"
    )

    corrected = await registry.post("/v1/students", json={**child, "grade": 1, "corrects": refused_id}, headers=school)
    assert corrected.status_code in (201, 202), corrected.text
    student_id = corrected.json()["student_id"]
    assert (await _settled(registry, token, student_id, wait_for))["state"] == "enrolled"
    await release()
    reservations = dedupe.app.state.runtime.db["id_reservations"]
    reserved = await reservations.find_one({"_id": f"id:{XIAOMING[3]}"})
    assert reserved is not None and reserved["student_id"] == student_id  # the late refusal took nothing


async def test_r01_r02_a_request_correcting_a_corrected_refused_request_names_the_whole_chain_at_every_replica(
    start_app, token, wait_for
):
    """R02 (primary school ends with grade 5): 林小明's request A (grade 6) is answered "unique" and refused; B corrects
    A but says grade 6 again and is refused too; C corrects B (grade 1). C's check names A as well as B
    (`refused_before`, oldest first), read by `_id` from B's stored request: a replica that answered A and saw
    neither B's check nor any refusal (all held back here) still holds A, and answered C as its R01 duplicate when C
    named B alone. C is enrolled, and is "unique" at that replica too."""
    from xueji_dedupe.checks import Checks
    from xueji_dedupe.domain import CandidateRecord
    from xueji_dedupe.feed import facts_of
    from xueji_dedupe.index_keeper import IndexKeeper
    from xueji_dedupe.reservations import Reservations

    dedupe, registry = await _apps(start_app)
    release = _refusals_held_back(dedupe)
    service = registry.app.state.registry
    service.rules = replace(service.rules, graduation_grades={**service.rules.graduation_grades, Segment.PRIMARY: 5})
    checks: Checks = dedupe.app.state.dedupe.checks
    asked: dict[str, Any] = {}  # the checks dedupe read, by student id
    answer = checks.on_requests

    async def reading(messages: list[Any]) -> None:
        asked.update((m.payload.student_id, m.payload) for m in messages)
        await answer(messages)

    checks.on_requests = reading  # type: ignore[method-assign]
    school = _as(token, "school", SCHOOL)
    child = {"school_code": SCHOOL, "name": XIAOMING[0], "id_number": XIAOMING[3], "gender": "male",
             "birth_date": XIAOMING[2], "grade": 6, "school_year": 2026}  # fmt: skip
    first = await registry.post("/v1/students", json=child, headers=school)
    assert first.status_code == 409, first.text
    a = first.json()["detail"]["student_id"]
    # Another replica answered A: it holds him in its own memory, and reads nothing more before C's check.
    other = IndexKeeper()
    other.hold(CandidateRecord.model_validate(facts_of(asked[a])), time.monotonic())
    lapse = timedelta(seconds=other.hold_seconds)
    reservations = Reservations(dedupe.app.state.runtime.db, lapse, settled=other.settled)
    other_replica = Checks(dedupe.app.state.runtime, other, checks.policy, checks.register, checks.cases, reservations)

    second = await registry.post("/v1/students", json={**child, "corrects": a}, headers=school)
    assert second.status_code == 409, second.text
    assert (second.json()["detail"]["rule"], second.json()["detail"]["field"]) == ("R02", "grade")
    b = second.json()["detail"]["student_id"]
    assert asked[b].refused_before == (a,)

    corrected = await registry.post("/v1/students", json={**child, "grade": 1, "corrects": b}, headers=school)
    assert corrected.status_code in (201, 202), corrected.text
    c = corrected.json()["student_id"]
    assert (await _settled(registry, token, c, wait_for))["state"] == "enrolled"
    assert (await other_replica.verdict(asked[c])).verdict.value == "unique"
    assert asked[c].refused_before == (a, b)
    assert a not in other.index

    await release()
    reserved = await dedupe.app.state.runtime.db["id_reservations"].find_one({"_id": f"id:{XIAOMING[3]}"})
    assert reserved is not None and reserved["student_id"] == c  # the late refusals took nothing

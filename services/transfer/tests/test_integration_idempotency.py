"""Idempotency-Key on transfer's write routes (issue 15, defect 6; IETF httpapi Idempotency-Key draft), over the real
store: a retry gets the first answer, the key reused with another request is refused with 422 naming the header,
and a key is its caller's own (the token's subject), so two clerks of one school never share a case through one."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from transfer_driver import RECEIVING, SENDING, STAGES, application, day, evidence, start

from xueji_contracts.auth import OperatorClaims
from xueji_kit.idempotency_claims import COLLECTION
from xueji_kit.security import mint_token

pytestmark = pytest.mark.integration
MONDAY = day(date(2025, 3, 10))


def _refused_for_the_key(answer) -> None:
    assert answer.status_code == 422, answer.text
    (problem,) = answer.json()["detail"]
    assert (problem["field"], problem["in"]) == ("Idempotency-Key", "header")
    assert "different request" in problem["reason"]


async def test_r21_a_key_reused_for_another_request_is_refused_and_a_retry_gets_the_first_answer(
    start_app, token, signing_keys
):
    t = await start(start_app, token, MONDAY)
    for student in ("stu_key_1", "stu_key_2"):
        await t.known(student)
    apply_key = {"Idempotency-Key": "apply-1"}
    body = {"application": application(student_id="stu_key_1")}
    first = await t.call("POST", "/v1/transfers", ("school", RECEIVING), body, headers=apply_key)
    retry = await t.call("POST", "/v1/transfers", ("school", RECEIVING), body, headers=apply_key)
    assert first.status_code == 201, first.text
    assert (retry.status_code, retry.json()) == (201, first.json())
    another = {"application": application(student_id="stu_key_2")}
    _refused_for_the_key(await t.call("POST", "/v1/transfers", ("school", RECEIVING), another, headers=apply_key))

    tid = first.json()["transfer_id"]
    await t.examine(tid)
    decide_key = {"Idempotency-Key": "decide-1"}
    path = f"/v1/transfers/{tid}/stages/receiving_school/decision"
    approve = {"decision": "approve"}
    decided = await t.call("POST", path, ("school", RECEIVING), approve, headers=decide_key)
    again = await t.call("POST", path, ("school", RECEIVING), approve, headers=decide_key)
    assert decided.status_code == 200, decided.text
    assert (again.status_code, again.json()) == (200, decided.json())
    rejected = {"decision": "reject", "reason": "学位已满"}
    _refused_for_the_key(await t.call("POST", path, ("school", RECEIVING), rejected, headers=decide_key))
    # The same key on another route is another request too.
    _refused_for_the_key(await t.call("POST", f"/v1/transfers/{tid}/notify-to-report", ("school", RECEIVING),
                                      headers=decide_key))  # fmt: skip

    # Another clerk of the same school, by chance with the same key: their own application, their own case.
    claims = OperatorClaims.model_validate({"sub": "clerk-2", "role": "school", "code": RECEIVING})
    theirs = await t.client.post(
        "/v1/transfers",
        json=another,
        headers={"Authorization": f"Bearer {mint_token(signing_keys[0], claims)}", **apply_key},
    )
    assert theirs.status_code == 201, theirs.text
    assert theirs.json()["transfer_id"] != tid

    detail = await t.detail(tid)
    kinds = [e["type"] for e in detail["history"]]
    assert (kinds.count("transfer_applied"), kinds.count("stage_approved")) == (1, 1), kinds
    assert detail["case"]["application"]["student_id"] == "stu_key_1"


async def test_r21_a_step_retried_with_its_key_after_its_answer_was_lost_answers_as_its_commit_left_the_case(
    start_app, token
):
    """The first answer not kept (the process stopped after answering): the retry runs the route again, finds the
    step's commit (derived from the key), stores nothing twice and answers the case as that commit left it, not as
    the steps recorded since left it."""
    t = await start(start_app, token, MONDAY)
    tid = await t.apply()
    examine_key = {"Idempotency-Key": "examine-1"}
    body, path = {"conditions_met": True, "vacancy": True}, f"/v1/transfers/{tid}/examination"
    examined = await t.call("POST", path, ("school", RECEIVING), body, headers=examine_key)
    assert examined.status_code == 200, examined.text
    await t.approve(tid, "receiving_school")  # a later step: the case moves on

    claims = t.app.state.runtime.db[COLLECTION]
    long_ago = datetime.now(UTC) - timedelta(minutes=5)
    lost = {"$set": {"state": "running", "beat_at": long_ago}, "$unset": {"answer": ""}}
    assert (await claims.update_one({"key": "examine-1"}, lost)).matched_count == 1
    again = await t.call("POST", path, ("school", RECEIVING), body, headers=examine_key)
    assert "idempotent-replayed" not in again.headers  # the route ran again
    assert (again.status_code, again.json()) == (200, examined.json())
    kinds = [e["type"] for e in (await t.detail(tid))["history"]]
    assert (kinds.count("conditions_examined"), kinds.count("stage_approved")) == (1, 1), kinds


async def _answer_lost(driver, key: str) -> None:
    """The key's claim as a process stopped after answering leaves it: running, its beat long ago, no answer kept."""
    claims = driver.app.state.runtime.db[COLLECTION]
    long_ago = datetime.now(UTC) - timedelta(minutes=5)
    lost = {"$set": {"state": "running", "beat_at": long_ago}, "$unset": {"answer": ""}}
    assert (await claims.update_one({"key": key}, lost)).matched_count == 1


async def test_r21_every_case_route_retried_on_another_replica_after_its_answer_was_lost_answers_as_its_commit_did(
    start_app, token
):
    """Each write route on a case, sent once with a key on one replica; the case moves on after each (the next step,
    the registry moving the student to the receiving school once it completed); then every first answer is lost and
    each request retried on another replica, whose stream cache never held the case: each answers exactly what it
    answered first, and nothing is stored twice."""
    t = await start(start_app, token, MONDAY)
    sent: list[tuple[str, str, tuple[str, str], dict | None]] = []  # key, path, who, body
    answers: dict[str, tuple[int, dict]] = {}

    async def send(key: str, path: str, who: tuple[str, str], body: dict | None = None) -> dict:
        answer = await t.call("POST", path, who, body, headers={"Idempotency-Key": key})
        assert answer.status_code in (200, 201), answer.text
        sent.append((key, path, who, body))
        answers[key] = (answer.status_code, answer.json())
        return dict(answer.json())

    await t.known()
    tid = (await send("apply", "/v1/transfers", ("school", RECEIVING), {"application": application()}))["transfer_id"]
    case = f"/v1/transfers/{tid}"
    await send("examine", f"{case}/examination", ("school", RECEIVING), {"conditions_met": True, "vacancy": True})
    for stage in STAGES:
        await send(f"decide-{stage}", f"{case}/stages/{stage}/decision", t.party(stage), {"decision": "approve"})
    await send("notify", f"{case}/notify-to-report", ("school", RECEIVING))
    await send("report", f"{case}/report", ("school", RECEIVING), {"electronic_file": evidence("electronic_file")})
    await send("paper-file", f"{case}/paper-file", ("school", SENDING), {"method": "mailed"})
    await t.known(school=RECEIVING)  # the registry moved the student: a new application would name another school

    # The offline path (R23) and more materials (R30), on a second case that moves on after them.
    await t.known("stu_offline")
    sparse = application(student_id="stu_offline", materials=[evidence("registration_form")])
    offline = (await t.ok("POST", "/v1/transfers", ("school", RECEIVING), {"application": sparse}))["transfer_id"]
    other_case = f"/v1/transfers/{offline}"
    await send("materials", f"{other_case}/materials", ("school", RECEIVING),
               {"materials": [evidence(k) for k in ("status_basic_info", "household_register", "reason_proof",
                                                     "certificate_image")]})  # fmt: skip
    await send("failure", f"{other_case}/offline/system-failure", ("county", "350602"),
               {"description": "provincial platform down", "guardian_requested": True})  # fmt: skip
    await send("consent", f"{other_case}/offline/consent", ("county", "350602"),
               {"signed_form": evidence("signed_registration_form"), "cause": "system_failure"})  # fmt: skip
    await send("acceptance", f"{other_case}/offline/acceptance", ("school", RECEIVING), {"record": {"class": "3"}})
    await t.examine(offline)
    await t.approve(offline, "receiving_school")
    before = {tid: (await t.detail(tid))["history"], offline: (await t.detail(offline))["history"]}

    other = await start(start_app, token, MONDAY)  # another replica: its stream cache never held either case
    for key, path, who, body in sent:
        await _answer_lost(t, key)
        again = await other.call("POST", path, who, body, headers={"Idempotency-Key": key})
        assert "idempotent-replayed" not in again.headers, key  # the route ran again
        assert (again.status_code, again.json()) == answers[key], key
    assert {tid: (await t.detail(tid))["history"], offline: (await t.detail(offline))["history"]} == before


async def test_r33_a_rollback_retried_on_a_replica_holding_the_case_from_before_it_answers_as_it_did_first(
    start_app, token
):
    """A graduate's rollback (R33) sent with a key; its first answer lost, the request is retried on another replica
    whose stream cache holds the case as it was before the rollback: it answers what the first answer said and stores
    nothing twice."""
    t = await start(start_app, token, day(date(2025, 9, 1)))
    other = await start(start_app, token, day(date(2025, 9, 1)))
    graduate = application(
        kind="progression", status="graduated", graduated_on="2025-07-01", grade=6, target_grade=7, term=None
    )
    tid = await t.apply(graduate)
    await other.complete(tid)  # `other` caches the case as completed
    t.clock.now += timedelta(days=30)
    other.clock.now = t.clock.now
    key, path = {"Idempotency-Key": "rollback-1"}, f"/v1/transfers/{tid}/rollback"
    body = {"reason": "enrolled at the wrong school by mistake"}
    rolled = await t.call("POST", path, ("county", "350602"), body, headers=key)
    assert rolled.status_code == 200 and rolled.json()["phase"] == "rolled_back", rolled.text
    history = (await t.detail(tid))["history"]

    await _answer_lost(t, "rollback-1")
    again = await other.call("POST", path, ("county", "350602"), body, headers=key)
    assert "idempotent-replayed" not in again.headers
    assert (again.status_code, again.json()) == (200, rolled.json())
    assert (await t.detail(tid))["history"] == history

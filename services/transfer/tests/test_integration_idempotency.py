"""Idempotency-Key on transfer's write routes (issue 15, defect 6; IETF httpapi Idempotency-Key draft), over the real
store: a retry gets the first answer, the key reused with another request is refused with 422 naming the header,
and a key is its caller's own (the token's subject), so two clerks of one school never share a case through one."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from transfer_driver import RECEIVING, application, day, start

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

"""Idempotency-Key on dedupe's review decision (issue 15, defect 6; IETF httpapi Idempotency-Key draft), over the
real broker and store: a county bureau's retried decision gets the first answer instead of a 409 against its own
decision, also when the first answer was not kept (the decision's commit is derived from the key, so the route,
run again, finds it), and the same key with another decision is refused with 422 naming the header (R14, R12)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from dedupe_driver import auth
from test_integration_review import _open_cases, _possible_duplicate

from xueji_dedupe.app import create_app
from xueji_dedupe.settings import DedupeSettings
from xueji_kit.idempotency_claims import COLLECTION

pytestmark = pytest.mark.integration
SIMING = "350203"


async def test_r14_a_retried_review_decision_gets_the_first_answer(start_app, isolation, token, wait_for):
    dedupe = await start_app(create_app, DedupeSettings)
    verdict = await _possible_duplicate(dedupe, isolation, wait_for, surname="陈", county=SIMING, born="2014-07-03")
    case_id = verdict["review_case_id"]
    county = auth(token, "county", SIMING)
    await wait_for(lambda: _open_cases(dedupe, county))

    keyed = {**county, "Idempotency-Key": "review-1"}
    body = {"decision": "different_person", "reason": "户籍证明显示为双胞胎姐妹"}
    path = f"/v1/review-cases/{case_id}/decision"
    decided = await dedupe.post(path, json=body, headers=keyed)
    retry = await dedupe.post(path, json=body, headers=keyed)
    assert decided.status_code == 200, decided.text
    assert (retry.status_code, retry.json()) == (200, decided.json())

    # The key's claim as a process that stopped after answering leaves it: the route runs again, and finds the
    # decision its key stored (it was refused as a second decision, 409).
    long_ago = datetime.now(UTC) - timedelta(minutes=5)
    claims = dedupe.app.state.runtime.db[COLLECTION]
    lost = {"$set": {"state": "running", "beat_at": long_ago}, "$unset": {"answer": ""}}
    assert (await claims.update_one({"key": "review-1"}, lost)).matched_count == 1
    rerun = await dedupe.post(path, json=body, headers=keyed)
    assert "idempotent-replayed" not in rerun.headers
    assert (rerun.status_code, rerun.json()) == (200, decided.json())

    other = await dedupe.post(path, json={**body, "decision": "same_person"}, headers=keyed)
    assert other.status_code == 422, other.text
    assert other.json()["detail"][0]["field"] == "Idempotency-Key"
    shown = (await dedupe.get(f"/v1/review-cases/{case_id}", headers=county)).json()
    assert shown["decision"] == "different_person"

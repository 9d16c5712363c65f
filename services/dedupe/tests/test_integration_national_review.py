"""R14, R10, R50: the county reviews a pair of records once. The national tier's answer "possible duplicate" naming a
record the county already found a different person from the student opens no second case for that pair; naming
another record, it opens one for that record alone; and a case of the same pair opened while the county's review was
still open is decided with it. Over the real broker and store, with the national tier's answers sent as it would.

The seeds say the county verifies (002 I.3, R50) and the national check follows the county's review (003 Q7, R10):
what the county decided about two records stands for them; only the same valid ID number refuses outright (R14)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from dedupe_driver import SIYU_ID, answering, auth, check, identity, indexed, send
from kafka_messages import published

from xueji_contracts.envelope import Envelope, envelop
from xueji_contracts.messages.dedupe import CheckPurpose, MatchedStatus, VerdictGiven, VerdictKind
from xueji_contracts.topics import (
    DEDUPE_CHECK,
    DEDUPE_REVIEW,
    DEDUPE_VERDICT,
    NATIONAL_CHECK,
    NATIONAL_VERDICT,
    REGISTRY_IDENTITY,
)
from xueji_dedupe.app import create_app
from xueji_dedupe.settings import DedupeSettings
from xueji_kit import store_commands

pytestmark = pytest.mark.integration
SIMING = "350203"
HUNAN_CHILD, OTHER_CHILD = "stu_hn_1", "stu_hn_2"  # records the national index holds, another province's


async def _asked_nationally(isolation: Any, tag: str) -> Envelope[Any]:
    """A G student's key-information change (R10), unique in the province: forwarded to the national tier."""
    asked = check("stu_fj_1", "陈思雨", purpose=CheckPurpose.KEY_INFO_CHANGE, id_number=SIYU_ID,
                  status_number="G" + SIYU_ID, school_code=f"{SIMING}0001", guardians=(f"陈{tag}",))  # fmt: skip
    kafka = isolation.servers.kafka
    await send(kafka, isolation.topic(DEDUPE_CHECK.name), asked)
    await published(kafka, isolation.topic(NATIONAL_CHECK.name), answering(asked.correlation_id))
    return asked


def _possible(asked: Envelope[Any], *candidates: str) -> Envelope[VerdictGiven]:
    matches = tuple(MatchedStatus(student_id=c, status_number=None, score=0.8 - i / 10, rule="name_sound")
                    for i, c in enumerate(candidates))  # fmt: skip
    answer = VerdictGiven(verdict=VerdictKind.POSSIBLE_DUPLICATE, purpose=CheckPurpose.KEY_INFO_CHANGE,
                          student_id="stu_fj_1", score=0.8, existing_student_id=candidates[0], matches=matches,
                          reason_zh="姓名同音", reason_en="same sounding name", tier="national")  # fmt: skip
    message = envelop(answer, producer="dedupe-national", province="35", occurred_at=datetime.now(UTC),
                      correlation_id=asked.correlation_id, causation=asked)  # fmt: skip
    return message


async def _national_answer(isolation: Any, asked: Envelope[Any], *candidates: str, times: int = 1) -> dict[str, Any]:
    """The national tier's "possible duplicate" naming `candidates` (sent `times` times: a redelivery), and the answer
    the province gives the registry for it."""
    message = _possible(asked, *candidates)
    kafka = isolation.servers.kafka
    for _ in range(times):
        await send(kafka, isolation.topic(NATIONAL_VERDICT.name), message)
    found = await published(kafka, isolation.topic(DEDUPE_VERDICT.name), answering(asked.correlation_id))
    (given,) = answering(asked.correlation_id)(found)
    payload: dict[str, Any] = given["payload"]
    return payload


async def _review_messages(isolation: Any, count: int) -> list[dict[str, Any]]:
    topic = isolation.topic(DEDUPE_REVIEW.name)
    return await published(isolation.servers.kafka, topic, lambda found: len(found) >= count)


def _of(messages: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [m["payload"] for m in messages if m["type"] == kind]


async def test_r14_r10_a_national_finding_of_a_pair_the_county_cleared_opens_no_second_case(
    start_app, isolation, token
):
    store_commands.install()  # before the service's client is made
    dedupe = await start_app(create_app, DedupeSettings, scheduler_enabled=False)
    county = auth(token, "county", SIMING)
    first = await _national_answer(isolation, await _asked_nationally(isolation, "a"), HUNAN_CHILD)
    assert first["verdict"] == "possible_duplicate" and first["review_case_id"]
    body = {"decision": "different_person", "reason": "户口簿与出生证明显示为不同儿童"}
    decided = await dedupe.post(f"/v1/review-cases/{first['review_case_id']}/decision", json=body, headers=county)
    assert decided.status_code == 200, decided.text

    # Asked again (the registry names the cleared case, or another change of the same student): the national tier
    # finds the same Hunan record. The county's decision stands: the check passes, and no case opens (redelivered too).
    again = await _national_answer(isolation, await _asked_nationally(isolation, "b"), HUNAN_CHILD, times=2)
    assert (again["verdict"], again["tier"], again["review_case_id"]) == ("unique", "national", None)
    assert first["review_case_id"] in again["reason_en"] and first["review_case_id"] in again["reason_zh"]

    # A finding naming another record as well is reviewed, for that record alone.
    other = await _national_answer(isolation, await _asked_nationally(isolation, "c"), HUNAN_CHILD, OTHER_CHILD)
    assert other["verdict"] == "possible_duplicate" and other["review_case_id"]
    assert (other["existing_student_id"], [m["student_id"] for m in other["matches"]]) == (OTHER_CHILD, [OTHER_CHILD])

    messages = await _review_messages(isolation, 3)
    opened = _of(messages, "ReviewCaseOpened")
    assert [(c["case_id"], c["candidate_student_id"]) for c in opened] == [
        (first["review_case_id"], HUNAN_CHILD),
        (other["review_case_id"], OTHER_CHILD),
    ]
    queue = (await dedupe.get("/v1/review-cases?state=open", headers=county)).json()["cases"]
    assert [c["case_id"] for c in queue] == [other["review_case_id"]]

    # The answer's path reads the check's stream and the pair's by `_id` alone.
    asked = await _asked_nationally(isolation, "d")
    with store_commands.counting(dedupe.app.state.runtime.db.name) as log, store_commands.scope("answer"):
        await dedupe.app.state.dedupe.record_national_answers([_possible(asked, HUNAN_CHILD)])
    commands = log.take("answer")
    assert store_commands.scans(commands) == []
    assert store_commands.tally(commands) == {
        "find events": 7,  # the check's stream (forwarded: 1 commit and the miss) twice; the pair's (2 and the miss)
        "insert events": 1,  # the answer, "unique"
        "insert events_outbox": 1,  # its message
    }


async def test_r14_r50_a_case_of_the_same_pair_opened_before_the_countys_decision_is_decided_with_it(
    start_app, isolation, token, wait_for
):
    dedupe = await start_app(create_app, DedupeSettings, scheduler_enabled=False)
    county = auth(token, "county", SIMING)
    first = await _national_answer(isolation, await _asked_nationally(isolation, "a"), HUNAN_CHILD)
    # The national tier's answer to another check of the same student arrives while the county still reviews.
    second = await _national_answer(isolation, await _asked_nationally(isolation, "b"), HUNAN_CHILD, times=2)
    assert second["verdict"] == "possible_duplicate"
    assert second["review_case_id"] not in (None, first["review_case_id"])

    body = {"decision": "different_person", "reason": "户口簿与出生证明显示为不同儿童"}
    headers = county | {"Idempotency-Key": "decide-first-once"}
    for _ in range(2):  # the county's request retried
        decided = await dedupe.post(f"/v1/review-cases/{first['review_case_id']}/decision", json=body, headers=headers)
        assert decided.status_code == 200, decided.text

    messages = await _review_messages(isolation, 4)
    decisions = _of(messages, "ReviewCaseDecided")
    assert sorted((d["case_id"], d["decision"], d["decided_by"]) for d in decisions) == sorted(
        [
            (first["review_case_id"], "different_person", "t-county"),
            (second["review_case_id"], "different_person", "t-county"),
        ]
    )
    (with_first,) = [d for d in decisions if d["case_id"] == second["review_case_id"]]
    assert first["review_case_id"] in with_first["reason"]
    shown = (await dedupe.get(f"/v1/review-cases/{second['review_case_id']}", headers=county)).json()
    assert shown["state"] == "decided" and shown["decision"] == "different_person"
    assert (await dedupe.get("/v1/review-cases?state=open", headers=county)).json()["cases"] == []
    refused = await dedupe.post(f"/v1/review-cases/{second['review_case_id']}/decision", json=body, headers=county)
    assert refused.status_code == 409  # decided once (R12)


async def test_r14_r03_the_g_number_check_of_a_record_the_county_released_goes_on_to_the_national_tier(
    start_app, isolation, token, wait_for
):
    """A record released by the county's review (a different person from the record it resembles) is checked again
    for its G number (R03): the province finds the same likeness; the county's decision stands, so the check goes on
    to the national tier instead of into a second review of the pair."""
    dedupe = await start_app(create_app, DedupeSettings, scheduler_enabled=False)
    kafka, county = isolation.servers.kafka, auth(token, "county", SIMING)
    await send(
        kafka, isolation.topic(REGISTRY_IDENTITY.name), identity("stu_first", "陈思雨", school_code=f"{SIMING}0001")
    )
    await wait_for(indexed(dedupe, 1))
    facts = {"region_code": "350102", "school_code": f"{SIMING}0002"}
    created = check("stu_second", "陈思语", **facts)
    await send(kafka, isolation.topic(DEDUPE_CHECK.name), created)
    found = await published(kafka, isolation.topic(DEDUPE_VERDICT.name), answering(created.correlation_id))
    (first,) = [m["payload"] for m in answering(created.correlation_id)(found)]
    assert (first["verdict"], first["existing_student_id"]) == ("possible_duplicate", "stu_first")
    body = {"decision": "different_person", "reason": "双胞胎，户口簿为证"}
    decided = await dedupe.post(f"/v1/review-cases/{first['review_case_id']}/decision", json=body, headers=county)
    assert decided.status_code == 200, decided.text

    issuing = check("stu_second", "陈思语", purpose=CheckPurpose.G_NUMBER_ISSUANCE, **facts)
    await send(kafka, isolation.topic(DEDUPE_CHECK.name), issuing)
    await published(kafka, isolation.topic(NATIONAL_CHECK.name), answering(issuing.correlation_id))
    verdicts = await published(kafka, isolation.topic(DEDUPE_VERDICT.name), answering(created.correlation_id))
    assert answering(issuing.correlation_id)(verdicts) == []  # waiting for the national tier, not for the county
    assert (await dedupe.get("/v1/review-cases?state=open", headers=county)).json()["cases"] == []

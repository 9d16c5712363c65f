"""Enrollment over the real broker and store: the dedupe check by correlation id (R01, R14), numbers (R03, R07)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest
from aiokafka import AIOKafkaProducer
from http_fixtures import pupil, today_in_china
from kafka_messages import published, sent_together
from registry_driver import verdict

from xueji_contracts.envelope import envelop
from xueji_contracts.messages.dedupe import VerdictKind
from xueji_contracts.messages.dedupe_review import ReviewCaseDecided, ReviewDecision
from xueji_contracts.topics import (
    DEDUPE_REVIEW,
    DEDUPE_VERDICT,
    REGISTRY_ENROLLMENT,
    STUDENT_STATUS,
    STUDENT_STATUS_SNAPSHOT,
    dlq,
)
from xueji_kit.dlq import replay
from xueji_registry.app import create_app
from xueji_registry.settings import RegistrySettings

pytestmark = pytest.mark.integration

SCHOOL = "3506020001"
# R07: numbered in the school year the request names, whichever way its record is created and whatever day it is asked.
STUDENT = pupil(SCHOOL, "林小明", "1949-12-31", 1, gender="male", id_number="11010519491231002X", school_year=2026)
NUMBERS = "126020001"  # R07: the school's primary numbers of the 2026 school year begin so
SERIES = f"R07:{NUMBERS}NNNN"  # and the sequence they are drawn from


def _auth(token, role="school", code=SCHOOL) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(role, code)}"}


async def _state(client, token, student_id, want):
    answer = await client.get(f"/v1/students/{student_id}", headers=_auth(token))
    return answer.json() if answer.json().get("state") == want else None


async def test_r01_unique_verdict_creates_status_with_l_and_supplementary_number(
    start_app, dedupe_stub, token, wait_for
):
    registry = await start_app(create_app, RegistrySettings)
    async with dedupe_stub():
        created = await registry.post("/v1/students", json=STUDENT, headers=_auth(token))
        assert created.status_code == 201, created.text
        record = created.json()
        assert record["state"] == "enrolled"
        assert record["status_number_masked"].startswith("L")
        done = await wait_for(lambda: _state(registry, token, record["student_id"], "enrolled"))
        done = await wait_for(lambda: _has_supplementary(registry, token, record["student_id"]))
    assert done["supplementary_numbers"]["primary"] == f"{NUMBERS}0001"


async def _has_supplementary(client, token, student_id):
    view = (await client.get(f"/v1/students/{student_id}", headers=_auth(token))).json()
    return view if view.get("supplementary_numbers") else None


async def test_r01_duplicate_verdict_is_refused_with_the_existing_record(start_app, dedupe_stub, token):
    registry = await start_app(create_app, RegistrySettings)
    async with dedupe_stub(verdict(VerdictKind.DUPLICATE, "stu_existing", score=1.0)):
        answer = await registry.post("/v1/students", json=STUDENT, headers=_auth(token))
    assert answer.status_code == 409, answer.text
    assert answer.json()["detail"]["existing_student_id"] == "stu_existing"
    assert answer.json()["detail"]["rule"] == "R01"


async def test_r14_requests_wait_while_dedupe_is_down_and_complete_once(start_app, dedupe_stub, token, wait_for):
    registry = await start_app(create_app, RegistrySettings, enrollment_wait_seconds=0.2)
    answer = await registry.post("/v1/students", json=STUDENT, headers=_auth(token))
    assert answer.status_code == 202
    student_id = answer.json()["student_id"]
    assert (await registry.get(f"/v1/students/{student_id}", headers=_auth(token))).json()["state"] == (
        "awaiting_duplicate_check"
    )
    async with dedupe_stub():
        await wait_for(lambda: _state(registry, token, student_id, "enrolled"))
    events = registry.app.state.runtime.events.collection
    assert await events.count_documents({"aggregate_id": student_id, "version": 1}) == 1


async def test_r14_a_verdict_for_a_request_this_replica_does_not_remember_reads_it_from_the_store(
    start_app, dedupe_stub, token, wait_for
):
    registry = await start_app(create_app, RegistrySettings, enrollment_wait_seconds=0.2)
    answer = await registry.post("/v1/students", json=STUDENT, headers=_auth(token))
    student_id = answer.json()["student_id"]
    assert registry.app.state.registry.recent.take(student_id) is not None  # as after a restart, or another replica's
    async with dedupe_stub():
        record = await wait_for(lambda: _state(registry, token, student_id, "enrolled"))
    assert record["school_code"] == SCHOOL and record["grade"] == 1


async def test_r06_a_malformed_verdict_is_dead_lettered_alone_and_the_enrollments_beside_it_complete(
    start_app, dedupe_stub, isolation, token, wait_for
):
    registry = await start_app(create_app, RegistrySettings, enrollment_wait_seconds=0.2)
    student_id = (await registry.post("/v1/students", json=STUDENT, headers=_auth(token))).json()["student_id"]
    topic = isolation.topic(DEDUPE_VERDICT.name)
    producer = AIOKafkaProducer(bootstrap_servers=isolation.servers.kafka)
    await producer.start()
    try:
        await producer.send_and_wait(topic, b'{"type": "VerdictGiven", "payload": {"verdict": "maybe"}}', key=b"k")
    finally:
        await producer.stop()
    async with dedupe_stub():
        await wait_for(lambda: _state(registry, token, student_id, "enrolled"))
    letters = await published(isolation.servers.kafka, dlq(topic), lambda found: len(found) >= 1)
    assert len(letters) == 1 and letters[0]["original_topic"] == topic and "maybe" in letters[0]["body"]


async def test_r14_possible_duplicate_waits_for_county_review(start_app, dedupe_stub, token, wait_for):
    registry = await start_app(create_app, RegistrySettings)
    async with dedupe_stub(verdict(VerdictKind.POSSIBLE_DUPLICATE, "stu_other", score=0.8)):
        answer = await registry.post("/v1/students", json=STUDENT, headers=_auth(token))
    assert answer.status_code == 201, answer.text
    assert answer.json()["state"] == "pending_review"


@pytest.mark.timeout(300)
async def test_r07_200_concurrent_enrollments_are_gapless(start_app, dedupe_stub, token, wait_for):
    registry = await start_app(create_app, RegistrySettings, enrollment_wait_seconds=0.0)
    body = {**STUDENT, "id_number": None}
    async with dedupe_stub():
        answers = await asyncio.gather(
            *(
                registry.post("/v1/students", json={**body, "name": f"学生{i}"}, headers=_auth(token))
                for i in range(200)
            )
        )
        assert all(a.status_code in (201, 202) for a in answers)
        ids = [a.json()["student_id"] for a in answers]
        # Cheap equality count while the numbers are drawn; the full read of the streams once, at the end.
        await wait_for(lambda: _allocated(registry, 200), timeout=100, interval=1.0)
        numbers = await wait_for(lambda: _all_numbered(registry, ids), timeout=20, interval=1.0)
    assert sorted(int(n[-4:]) for n in numbers) == list(range(1, 201))
    assert all(n.startswith(NUMBERS) for n in numbers)


async def _all_numbered(client, ids):
    events = client.app.state.runtime.events
    found = [
        e["number"]
        async for c in events.every_commit({"aggregate_id": {"$in": ids}})
        for e in c["events"]
        if e["type"] == "supplementary_number_assigned"
    ]
    return found if len(found) >= len(ids) else None


async def _allocated(client, count):
    allocations = client.app.state.runtime.db["allocations"]
    return await allocations.count_documents({"scope": SERIES}) >= count


async def test_r07_when_a_schools_numbers_of_the_year_run_out_the_record_is_enrolled_without_one(
    start_app, dedupe_stub, token, wait_for
):
    registry = await start_app(create_app, RegistrySettings, enrollment_wait_seconds=0.0)
    scope = SERIES  # the series' numbers, up to the last but one
    allocations = registry.app.state.runtime.db["allocations"]
    await allocations.insert_many([{"_id": f"{scope}#{n}", "scope": scope, "seq": n} for n in range(1, 9999)])
    body = {**STUDENT, "id_number": None}
    async with dedupe_stub():
        answers = [
            await registry.post("/v1/students", json={**body, "name": f"学生{i}"}, headers=_auth(token)) for i in (1, 2)
        ]
        ids = [a.json()["student_id"] for a in answers]
        records = [await wait_for(lambda sid=sid: _state(registry, token, sid, "enrolled")) for sid in ids]
    # The last number of the layout (R07: four digits a school and year), then an enrolled record without one.
    assert records[0]["supplementary_numbers"] == {"primary": f"{NUMBERS}9999"}
    assert not records[1].get("supplementary_numbers") and records[1]["state"] == "enrolled"


async def test_r07_enrolled_at_once_or_released_by_review_a_freshman_is_numbered_in_the_school_year_it_registers_for(
    start_app, dedupe_stub, token, isolation, wait_for
):
    """R07 (002 II.2): digits 2-3 are the school year of the freshman registration, the year the request names. A
    pupil of the 2026 freshman class admitted on 20 July 2026 (before August, so in the 2025 school year by date)
    gets a 2026 number whichever way the record is created: enrolled at once after a unique verdict, or released by
    the county's review of a possible duplicate. Both draw from the one 2026 series, gapless (the review path took
    the admission date's school year, 2025, and started a series of its own)."""
    registry = await start_app(create_app, RegistrySettings)
    body = pupil(SCHOOL, "林小雨", "2020-03-15", 1, school_year=2026, admitted_on="2026-07-20")
    async with dedupe_stub():
        at_once = await registry.post("/v1/students", json=body, headers=_auth(token))
        assert at_once.status_code == 201, at_once.text
    async with dedupe_stub(verdict(VerdictKind.POSSIBLE_DUPLICATE, "stu_other", score=0.8)):
        held = await registry.post("/v1/students", json={**body, "name": "林小雪"}, headers=_auth(token))
        assert held.status_code == 201, held.text
    ids = [at_once.json()["student_id"], held.json()["student_id"]]
    await wait_for(lambda: _state(registry, token, ids[1], "pending_review"))
    await _released(isolation, ids[1:])
    records = [await wait_for(lambda sid=sid: _has_supplementary(registry, token, sid)) for sid in ids]
    assert [r["supplementary_numbers"]["primary"] for r in records] == ["1260200010001", "1260200010002"]


async def test_r54_r52_a_july_admission_to_the_coming_class_is_listed_and_published_in_the_year_its_request_names(
    start_app, dedupe_stub, token, isolation, wait_for
):
    """R54 (002 II.9: the register of new students lists the freshman class), R52 feed: a pupil of the 2026 freshman
    class admitted on 20 July 2026 (before August, so 2025 by date) is on the school's 2026 new-student roster, not
    2025's, and student.status.v1 and its snapshot say school_year 2026, as its R07 number (1 26 ...) does, whichever
    way the record is created: enrolled at once, or released by the county's review (both were listed on the 2025
    roster and published as 2025: the admission date's school year)."""
    registry = await start_app(create_app, RegistrySettings)
    body = pupil(SCHOOL, "林小雨", "2020-03-15", 1, school_year=2026, admitted_on="2026-07-20")
    async with dedupe_stub():
        at_once = await registry.post("/v1/students", json=body, headers=_auth(token))
        assert at_once.status_code == 201, at_once.text
    async with dedupe_stub(verdict(VerdictKind.POSSIBLE_DUPLICATE, "stu_other", score=0.8)):
        held = await registry.post("/v1/students", json={**body, "name": "林小雪"}, headers=_auth(token))
        assert held.status_code == 201, held.text
    ids = [at_once.json()["student_id"], held.json()["student_id"]]
    await wait_for(lambda: _state(registry, token, ids[1], "pending_review"))
    await _released(isolation, ids[1:])
    await wait_for(lambda: _state(registry, token, ids[1], "enrolled"))

    rosters = {
        year: (await registry.get(f"/v1/rosters/annual/{SCHOOL}/{year}", headers=_auth(token))).json()
        for year in (2025, 2026)
    }
    assert sorted(line["student_id"] for line in rosters[2026]["new_students"]) == sorted(ids)
    assert [line["on"] for line in rosters[2026]["new_students"]] == ["2026-07-20", "2026-07-20"]
    assert rosters[2025]["new_students"] == []

    def of(found: list[dict]) -> list[dict]:
        return [m["payload"] for m in found if m["payload"]["student_id"] in ids]

    changes = of(await published(isolation.servers.kafka, isolation.topic(STUDENT_STATUS.name),
                                 lambda found: len(of(found)) >= 3))  # fmt: skip
    assert sorted((c["student_id"] == ids[1], c["change"]) for c in changes) == [
        (False, "enrolled"),
        (True, "enrolled"),
        (True, "recorded_for_review"),
    ]
    assert [c["school_year"] for c in changes] == [2026, 2026, 2026]
    snapshots = of(await published(isolation.servers.kafka, isolation.topic(STUDENT_STATUS_SNAPSHOT.name),
                                   lambda found: len(of(found)) >= 3))  # fmt: skip
    assert {s["school_year"] for s in snapshots} == {2026}


async def test_r07_requests_are_numbered_a_batch_at_a_time_once_each_and_a_malformed_one_dead_lettered(
    start_app, dedupe_stub, token, isolation, wait_for
):
    """Issue 19: registry.enrollment.v1 (records released by the county's review ask their R07 number there) is
    consumed in batches. Numbers stay gapless, a redelivered request draws none, a malformed one beside them is
    dead-lettered alone with its reason."""
    registry = await start_app(create_app, RegistrySettings, enrollment_wait_seconds=0.0)
    topic = isolation.topic(REGISTRY_ENROLLMENT.name)
    body = {**STUDENT, "id_number": None}
    async with dedupe_stub(verdict(VerdictKind.POSSIBLE_DUPLICATE, "stu_other", score=0.8)):
        answers = [
            await registry.post("/v1/students", json={**body, "name": f"学生{i}"}, headers=_auth(token))
            for i in range(4)
        ]
        ids = [a.json()["student_id"] for a in answers]
        for sid in ids:
            await wait_for(lambda sid=sid: _state(registry, token, sid, "pending_review"))
    await _released(isolation, ids[:3])
    await wait_for(lambda: _all_numbered(registry, ids[:3]))
    requests = await published(isolation.servers.kafka, topic, lambda found: len(found) >= 3)
    # Every request again (a redelivery) with a malformed one among them: one fetch.
    again = [json.dumps(r).encode() for r in requests]
    await sent_together(isolation.servers.kafka, topic, [again[0], b'{"payload": {}}', *again[1:]], SCHOOL.encode())
    await _released(isolation, ids[3:])
    numbers = await wait_for(lambda: _all_numbered(registry, ids))
    assert sorted(int(n[-4:]) for n in numbers) == [1, 2, 3, 4]  # the redelivered requests drew no number
    assert await registry.app.state.runtime.db["allocations"].count_documents({"scope": SERIES}) == 4
    letters = await published(isolation.servers.kafka, dlq(topic), lambda found: len(found) >= 1)
    assert [(letter["offset"], letter["error_type"]) for letter in letters] == [(4, "ValidationError")]


async def test_r14_a_county_decision_before_its_record_is_dead_lettered_with_the_reason_and_applied_when_replayed(
    start_app, dedupe_stub, isolation, token, wait_for
):
    """The verdicts' consumer behind the reviews' one (a bulk intake): the county's decision finds the record's
    request still waiting for its verdict. It is retried, then dead-lettered saying why, and the consumer goes on: a
    decision about a request never made here, behind it, is dead-lettered at once. Replayed once the record waits
    for review, the decision releases it."""
    registry = await start_app(create_app, RegistrySettings, enrollment_wait_seconds=0.0)
    answer = await registry.post("/v1/students", json=STUDENT, headers=_auth(token))
    assert answer.status_code == 202, answer.text  # no dedupe yet: the request waits for its verdict
    student = answer.json()["student_id"]
    await _released(isolation, [student, "stu_never_requested"])
    review = dlq(isolation.topic(DEDUPE_REVIEW.name))
    letters = {x["error_type"]: x for x in await published(isolation.servers.kafka, review, lambda f: len(f) >= 2)}
    assert set(letters) == {"RecordNotCreatedYet", "NoRecordToDecide"}
    waiting, never = letters["RecordNotCreatedYet"], letters["NoRecordToDecide"]
    assert waiting["attempts"] == 4 and student in waiting["reason"] and "not created yet" in waiting["reason"]
    assert never["attempts"] == 1 and "stu_never_requested" in never["reason"]
    async with dedupe_stub(verdict(VerdictKind.POSSIBLE_DUPLICATE, "stu_other", score=0.8)):
        await wait_for(lambda: _state(registry, token, student, "pending_review"))
    options = {"bootstrap_servers": isolation.servers.kafka}
    replayed, problems = await replay(options, review, error_types={"RecordNotCreatedYet"})
    assert len(replayed) == 1 and problems == []
    await wait_for(lambda: _state(registry, token, student, "enrolled"))


async def _released(isolation, student_ids: list[str]) -> None:
    """The county decided each pending record is a different person (R14): released, it asks its R07 number."""
    decisions = [
        envelop(
            ReviewCaseDecided(case_id=f"case-{sid}", county_code="350602", school_code=SCHOOL, student_id=sid,
                              decision=ReviewDecision.DIFFERENT_PERSON, decided_by="county-1",
                              decided_at=datetime.now(UTC)),
            producer="dedupe", province="35", occurred_at=datetime.now(UTC),
        ).model_dump_json().encode()
        for sid in student_ids
    ]  # fmt: skip
    await sent_together(isolation.servers.kafka, isolation.topic(DEDUPE_REVIEW.name), decisions)


async def test_r14_an_enrollment_contradicting_its_id_number_is_enrolled_with_a_warning_naming_the_field(
    start_app, dedupe_stub, token
):
    """The ID number 35060220190501018X is a girl's (its 17th digit is even); the request says a boy. Enrolled all the
    same (the number is valid, R06), the answer naming the field and why, so the clerk can correct the one that is
    wrong; a request that agrees with its number (and whose age fits its grade) carries no warnings."""
    registry = await start_app(create_app, RegistrySettings)
    boy = pupil(SCHOOL, "林小明", "2019-05-01", 1, gender="male", id_number="35060220190501018X")
    async with dedupe_stub():
        created = await registry.post("/v1/students", json=boy, headers=_auth(token))
        assert created.status_code == 201, created.text
        assert created.json()["warnings"] == [
            {
                "field": "gender",
                "reason": "male is not the gender in the ID number (its 17th digit, 8, is even: female)",
            }
        ]
        agreeing = {**boy, "gender": "female", "birth_date": "2019-03-15", "id_number": "350602201903150242",
                    "name": "林小红"}  # fmt: skip
        created = await registry.post("/v1/students", json=agreeing, headers=_auth(token))
        assert created.status_code == 201, created.text
        assert "warnings" not in created.json()


async def test_r02_an_admission_date_after_today_in_china_is_refused_when_asked_naming_the_field(
    start_app, dedupe_stub, token
):
    """R02: status is established after admission. An admission date after today (the China date, Asia/Shanghai, as
    the record's creation judges it) is refused at once with 422 naming `admitted_on`, and nothing is stored or
    asked of dedupe (it was refused only once dedupe had answered, with 409); today's date is enrolled."""
    registry = await start_app(create_app, RegistrySettings)
    today = await asyncio.to_thread(today_in_china)  # not a second before midnight there: the service's today
    async with dedupe_stub():
        tomorrow = {**STUDENT, "admitted_on": (today + timedelta(days=1)).isoformat()}
        refused = await registry.post("/v1/students", json=tomorrow, headers=_auth(token))
        assert refused.status_code == 422, refused.text
        body = refused.json()
        assert body["rule"] == "R02" and [p["field"] for p in body["detail"]] == ["admitted_on"], body
        assert "in the future" in body["detail"][0]["reason"], body
        events = registry.app.state.runtime.events
        assert [c async for c in events.every_commit({"aggregate_id": {"$regex": "^enrollment:"}})] == []
        created = await registry.post("/v1/students", json={**STUDENT, "admitted_on": today.isoformat()},
                                      headers=_auth(token))  # fmt: skip
        assert created.status_code == 201, created.text

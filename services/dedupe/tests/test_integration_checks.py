"""Checks over the real broker and store: the index fed by registry.identity.v1, verdicts by correlation id
(R01, R14), a malformed check dead-lettered (R06), a redelivered check answered once, HTTP checks (R50)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from dedupe_driver import BORN, SIYU_ID, answering, auth, check, identity, indexed, send
from kafka_messages import published

from xueji_contracts.topics import DEDUPE_CHECK, DEDUPE_VERDICT, REGISTRY_IDENTITY, dlq
from xueji_dedupe.app import create_app
from xueji_dedupe.settings import DedupeSettings

pytestmark = pytest.mark.integration


async def test_r01_second_enrollment_same_id_is_duplicate_over_kafka(start_app, isolation, wait_for):
    dedupe = await start_app(create_app, DedupeSettings)
    kafka = isolation.servers.kafka
    first = identity("stu_first", "陈思雨", id_number=SIYU_ID, status_number="G" + SIYU_ID)
    await send(kafka, isolation.topic(REGISTRY_IDENTITY.name), first, key=b"stu_first")
    await wait_for(indexed(dedupe, 1))

    # Another school types another name, but the ID number is the same person's: one person, one number.
    second = check("stu_second", "陈诗雨", id_number=SIYU_ID)
    await send(kafka, isolation.topic(DEDUPE_CHECK.name), second)
    (answer,) = answering(second.correlation_id)(
        await published(kafka, isolation.topic(DEDUPE_VERDICT.name), answering(second.correlation_id))
    )
    verdict = answer["payload"]
    assert answer["type"] == "VerdictGiven"
    assert verdict["verdict"] == "duplicate"
    assert verdict["existing_student_id"] == "stu_first"
    assert verdict["student_id"] == "stu_second"
    assert [m["rule"] for m in verdict["matches"]] == ["id_number"]
    assert "一人一号" in verdict["reason_zh"]
    assert SIYU_ID not in verdict["reason_zh"] + verdict["reason_en"]  # R52: reasons mask the number


async def test_r14_unique_person_is_answered_unique(start_app, isolation, wait_for):
    await start_app(create_app, DedupeSettings)
    request = check("stu_new", "林小明", gender="male", birth_date="2013-02-11")
    await send(isolation.servers.kafka, isolation.topic(DEDUPE_CHECK.name), request)
    found = await published(
        isolation.servers.kafka, isolation.topic(DEDUPE_VERDICT.name), answering(request.correlation_id)
    )
    assert found[0]["payload"]["verdict"] == "unique"
    assert found[0]["payload"]["review_case_id"] is None


async def test_r06_malformed_check_goes_to_dlq_and_the_next_is_answered(start_app, isolation):
    await start_app(create_app, DedupeSettings)
    kafka, topic = isolation.servers.kafka, isolation.topic(DEDUPE_CHECK.name)
    bad_id = check("stu_bad", "陈思雨").model_dump(mode="json")
    bad_id["payload"]["id_number"] = SIYU_ID[:17] + ("0" if SIYU_ID[17] != "0" else "1")
    good = check("stu_good", "林小明", gender="male")
    await send(kafka, topic, b"{not json", json.dumps(bad_id).encode(), good)
    letters = await published(kafka, dlq(topic), lambda found: len(found) >= 2)
    assert {letter["original_topic"] for letter in letters} == {topic}
    assert any("id_number" in letter["reason"] and "check character" in letter["reason"] for letter in letters)
    await published(kafka, isolation.topic(DEDUPE_VERDICT.name), answering(good.correlation_id))
    # Checks are consumed in batches: only the two bad ones were dead-lettered, not the batch around them.
    letters = await published(kafka, dlq(topic), lambda found: len(found) >= 2)
    assert len(letters) == 2 and all("stu_good" not in letter["body"] for letter in letters)


async def test_r01_the_same_child_twice_in_one_batch_is_unique_once(start_app, isolation):
    await start_app(create_app, DedupeSettings)
    kafka = isolation.servers.kafka
    first, second = check("stu_first", "陈思雨", id_number=SIYU_ID), check("stu_second", "陈思雨", id_number=SIYU_ID)
    await send(kafka, isolation.topic(DEDUPE_CHECK.name), first, second)
    found = await published(kafka, isolation.topic(DEDUPE_VERDICT.name), answering(second.correlation_id))
    verdicts = {m["payload"]["student_id"]: m["payload"] for m in found}
    assert verdicts["stu_first"]["verdict"] == "unique"
    assert verdicts["stu_second"]["verdict"] == "duplicate"
    assert verdicts["stu_second"]["existing_student_id"] == "stu_first"


async def test_redelivered_check_is_answered_once(start_app, isolation):
    await start_app(create_app, DedupeSettings)
    kafka = isolation.servers.kafka
    request = check("stu_once", "林小明", gender="male")
    later = check("stu_later", "王芳")
    await send(kafka, isolation.topic(DEDUPE_CHECK.name), request, request, request, later)
    await published(kafka, isolation.topic(DEDUPE_VERDICT.name), answering(later.correlation_id))
    await asyncio.sleep(1.0)  # the relay had time to publish a second answer, if there were one
    found = await published(kafka, isolation.topic(DEDUPE_VERDICT.name), answering(later.correlation_id))
    assert len(answering(request.correlation_id)(found)) == 1


async def test_r50_http_check_for_operators_is_jurisdiction_checked(start_app, isolation, token, wait_for):
    dedupe = await start_app(create_app, DedupeSettings)
    await send(isolation.servers.kafka, isolation.topic(REGISTRY_IDENTITY.name), identity("stu_1", "陈思雨"))
    await wait_for(indexed(dedupe, 1))
    body = {"name": "陳思雨", "birth_date": BORN.isoformat(), "gender": "female", "school_code": "3502030002"}
    answer = await dedupe.post("/v1/checks", json=body, headers=auth(token, "school", "3502030002"))
    assert answer.status_code == 200, answer.text
    # Traditional form of the same name, same birth date and county: reviewed, not refused (R14, no ID number).
    assert answer.json()["verdict"] == "possible_duplicate"
    assert answer.json()["existing_student_id"] == "stu_1"

    elsewhere = await dedupe.post("/v1/checks", json=body, headers=auth(token, "school", "3502030009"))
    assert elsewhere.status_code == 403
    invalid = await dedupe.post(
        "/v1/checks", json=body | {"id_number": SIYU_ID[:-1] + "0"}, headers=auth(token, "county", "350203")
    )
    assert invalid.status_code == 422
    assert invalid.json()["detail"][0]["field"] == "id_number"


async def test_r01_the_same_child_checked_at_two_replicas_at_once_is_unique_only_once(start_app):
    """Two dedupe replicas, each with its own in-memory index, over one store: the ID number's reservation decides."""
    first = await start_app(create_app, DedupeSettings)
    second = await start_app(create_app, DedupeSettings)
    a = check("stu_at_a", "陈思雨", id_number=SIYU_ID).payload
    b = check("stu_at_b", "陈思雨", id_number=SIYU_ID).payload
    answers = await asyncio.gather(first.app.state.dedupe.verdict(a), second.app.state.dedupe.verdict(b))
    assert sorted(v.verdict.value for v in answers) == ["duplicate", "unique"]
    winner, loser = (a, b) if answers[0].verdict.value == "unique" else (b, a)
    refused = next(v for v in answers if v.verdict.value == "duplicate")
    assert refused.existing_student_id == winner.student_id and refused.student_id == loser.student_id
    again = await first.app.state.dedupe.verdict(winner)
    assert again.verdict.value == "unique"  # a repeated check of the winner's own request keeps its reservation

    # Without an ID number (a J student): the same name, birth date and gender typed at two schools at once.
    c = check("stu_at_c", "林 小满", gender="male", birth_date="2016-02-09").payload
    d = check("stu_at_d", "林小满", gender="male", birth_date="2016-02-09").payload
    answers = await asyncio.gather(first.app.state.dedupe.verdict(c), second.app.state.dedupe.verdict(d))
    kinds = sorted(v.verdict.value for v in answers)
    assert kinds[-1] == "unique" and kinds[0] in ("duplicate", "possible_duplicate"), kinds  # not unique twice


def _persons(*student_ids: str) -> list[Any]:
    """The same child (陈思雨, her ID number) as checked for each of these requests."""
    from xueji_dedupe.domain import CandidateRecord
    from xueji_dedupe.feed import facts_of

    return [
        CandidateRecord.model_validate(facts_of(check(s, "陈思雨", id_number=SIYU_ID).payload)) for s in student_ids
    ]


async def test_r01_a_reservation_outlasts_a_lagging_feed_and_lapses_only_after_a_day(isolation):
    """A reservation lapsed ten minutes after the "unique" answer: with the identity feed further behind (a province's
    bulk intake), the same ID number checked at another replica was answered "unique" again, and two records were
    created for one child. It holds until the record is known (the next test); a day is the last resort."""
    from xueji_dedupe.reservations import Reservations
    from xueji_kit.store import connect

    client = connect(isolation.servers.mongodb)
    reservations = Reservations(client[f"{isolation.database}_reservations"])
    a, b = _persons("a", "b")
    now = datetime.now(UTC)
    try:
        assert await reservations.reserve(a, now) is None
        assert (await reservations.reserve(b, now + timedelta(minutes=11))).student_id == "a"  # the feed is behind
        assert (await reservations.reserve(b, now + timedelta(hours=23))).student_id == "a"
        assert await reservations.reserve(b, now + timedelta(hours=24, minutes=1)) is None  # a never came
        assert (await reservations.reserve(a, now + timedelta(hours=24, minutes=2))).student_id == "b"
    finally:
        await client.close()


async def test_r01_a_reservation_ends_once_its_record_is_known_or_refused_by_id_alone_and_one_replica_takes_it(
    isolation,
):
    """A reservation whose record this replica's index holds (the index answers for it: here the record has since
    moved to another ID number) or whose creation was refused gives way; the refusal removes it. Two replicas taking
    over the same one at once: one wins (a marker insert), the other is answered with the winner. Every command
    selects by `_id` alone."""
    from xueji_dedupe.reservations import Reservations
    from xueji_kit.store import connect
    from xueji_kit.store_commands import counting, install, scans, scope, tally

    install()  # before the client: its commands are counted
    client = connect(isolation.servers.mongodb)
    db = client[f"{isolation.database}_reservations"]
    settled: set[str] = set()
    reservations = Reservations(db, settled=settled.__contains__)
    a, b, c, d, e = _persons("a", "b", "c", "d", "e")
    try:
        with counting(db.name) as log, scope("checks"):
            assert await reservations.reserve(a) is None
            assert (await reservations.reserve(b)).student_id == "a"
            settled.add("a")  # a reached this replica's index
            assert await reservations.reserve(b) is None
            assert await reservations.release(b)  # b's creation was refused
            assert await db["id_reservations"].find_one({"_id": f"id:{SIYU_ID}"}) is None
            assert not await reservations.release(b)
            assert await reservations.reserve(c) is None
            assert not await reservations.release(b), "c's reservation is not b's to remove"
        commands = log.take("checks")
        assert scans(commands) == []
        assert tally(commands) == {
            "delete id_reservations": 1,  # b's, refused
            "find id_reservations": 6,  # b's first try; b's second; each release; the check above
            "insert id_reservations": 6,  # a, b twice, c; the two markers (b over a, b's removal)
            "update id_reservations": 1,  # b over a, in place
        }

        settled.add("c")
        answers = await asyncio.gather(reservations.reserve(d), reservations.reserve(e))
        assert sorted(answer is None for answer in answers) == [False, True], "one of them takes c's over"
        winner = (await db["id_reservations"].find_one({"_id": f"id:{SIYU_ID}"}))["student_id"]
        assert winner in ("d", "e") and [a.student_id for a in answers if a is not None] == [winner]
    finally:
        await client.close()


async def test_r01_r10_a_reservation_gives_way_once_its_record_is_in_the_replicas_index_under_another_id_number(
    start_app, isolation, wait_for
):
    """Once a replica's index holds the record a reservation was taken for, the index answers for it: here its key
    information was corrected (R10), so the child checked with the old ID number is not a duplicate of it any more."""
    from bench.synthetic import id_number_for

    replicas = [await start_app(create_app, DedupeSettings), await start_app(create_app, DedupeSettings)]
    a = check("stu_a", "陈思雨", id_number=SIYU_ID).payload
    assert (await replicas[0].app.state.dedupe.verdict(a)).verdict.value == "unique"
    recorded = identity("stu_a", "陈思雨", id_number=SIYU_ID)
    born = date(2013, 2, 11)  # the clerk had typed her details on his record: corrected (R10), it is his
    corrected = identity(
        "stu_a", "林小明", version=2, gender="male", birth_date=born, id_number=id_number_for("350203", born, 11)
    )
    await send(isolation.servers.kafka, isolation.topic(REGISTRY_IDENTITY.name), recorded, corrected, key=b"stu_a")
    await wait_for(lambda: all(r.app.state.dedupe.keeper.versions.get("stu_a") == 2 for r in replicas))
    b = check("stu_b", "陈思雨", id_number=SIYU_ID).payload
    assert (await replicas[1].app.state.dedupe.verdict(b)).verdict.value == "unique"
    again = await replicas[0].app.state.dedupe.verdict(check("stu_c", "陈思雨", id_number=SIYU_ID).payload)
    assert (again.verdict.value, again.existing_student_id) == ("duplicate", "stu_b")


async def test_r01_a_creation_refused_by_the_registry_releases_the_child_at_every_replica(
    start_app, isolation, wait_for
):
    """The registry refused a creation dedupe had answered "unique" (R02: an admission date in the future). On the
    identity feed, every replica ends its hold and the reservation is removed: the corrected request right after is
    "unique" at either replica, not a duplicate of a record that never was."""
    from xueji_contracts.envelope import envelop
    from xueji_contracts.messages.dedupe import IdentityRefused

    replicas = [await start_app(create_app, DedupeSettings), await start_app(create_app, DedupeSettings)]
    asked = check("stu_refused", "陈思雨", id_number=SIYU_ID).payload
    assert (await replicas[0].app.state.dedupe.verdict(asked)).verdict.value == "unique"
    meanwhile = check("stu_meanwhile", "陈思雨", id_number=SIYU_ID).payload  # the other replica holds it too now
    assert (await replicas[1].app.state.dedupe.verdict(meanwhile)).existing_student_id == "stu_refused"

    person = asked.model_dump(exclude={"purpose", "cleared_review_case_id", "refused_before"})  # as the check asked
    refusal = IdentityRefused(**person, rule="R02", reason="the admission date is in the future")
    told = envelop(refusal, producer="registry", province="35", occurred_at=datetime.now(UTC))
    await send(isolation.servers.kafka, isolation.topic(REGISTRY_IDENTITY.name), told, key=b"stu_refused")
    reservations = replicas[0].app.state.runtime.db["id_reservations"]

    async def released() -> bool:
        held = any("stu_refused" in r.app.state.dedupe.keeper.index for r in replicas)
        return not held and await reservations.find_one({"_id": f"id:{SIYU_ID}"}) is None

    await wait_for(released)
    await replicas[0].app.state.dedupe.verdict(asked)  # the refused request's check redelivered: holds no one again
    assert "stu_refused" not in replicas[0].app.state.dedupe.keeper.index
    assert await reservations.find_one({"_id": f"id:{SIYU_ID}"}) is None
    corrected = check("stu_corrected", "陈思雨", id_number=SIYU_ID).payload
    assert (await replicas[1].app.state.dedupe.verdict(corrected)).verdict.value == "unique"
    again = await replicas[0].app.state.dedupe.verdict(check("stu_again", "陈思雨", id_number=SIYU_ID).payload)
    assert (again.verdict.value, again.existing_student_id) == ("duplicate", "stu_corrected")  # R01 holds for it


async def test_r01_a_corrected_request_naming_the_refused_one_is_unique_before_the_refusal_arrives_at_any_replica(
    start_app, isolation
):
    """A class sheet's row refused after dedupe answered "unique" (R02), corrected and uploaded again: the corrected
    request's check names the refused request (`refused_before`) and may come before the refusal on the identity feed,
    which travels on another topic. It is "unique" at either replica, and takes the reservation over; the refused
    request's own refusal read late takes nothing from it, and a different child with the same ID number is refused
    as its duplicate (R01), as is a request naming a refused request other than the one holding the child."""
    from xueji_contracts.envelope import envelop
    from xueji_contracts.messages.dedupe import IdentityRefused

    replicas = [await start_app(create_app, DedupeSettings), await start_app(create_app, DedupeSettings)]
    dedupe = [r.app.state.dedupe for r in replicas]
    asked = check("stu_refused", "陈思雨", id_number=SIYU_ID).payload
    assert (await dedupe[0].verdict(asked)).verdict.value == "unique"  # held at replica 0, reserved in the store
    corrected = check("stu_corrected", "陈思雨", id_number=SIYU_ID, refused_before=("stu_refused",)).payload
    assert (await dedupe[1].verdict(corrected)).verdict.value == "unique"
    assert (await dedupe[0].verdict(corrected)).verdict.value == "unique"  # redelivered to the replica that held it
    assert "stu_refused" not in dedupe[0].keeper.index

    reservations = replicas[0].app.state.runtime.db["id_reservations"]
    person = asked.model_dump(exclude={"purpose", "cleared_review_case_id", "refused_before"})
    refusal = IdentityRefused(**person, rule="R02", reason="grade 6 is past the graduation grade 5")
    told = envelop(refusal, producer="registry", province="35", occurred_at=datetime.now(UTC))
    await send(isolation.servers.kafka, isolation.topic(REGISTRY_IDENTITY.name), told, key=b"stu_refused")
    await dedupe[1].store_identities([told], [])  # as the persisting consumer stores it, at once
    dedupe[1].follow(told)
    assert (await reservations.find_one({"_id": f"id:{SIYU_ID}"}))["student_id"] == "stu_corrected"

    for replica in dedupe:
        other = check("stu_other_child", "王小红", id_number=SIYU_ID, school_code="3502030003").payload
        answer = await replica.verdict(other)
        assert (answer.verdict.value, answer.existing_student_id) == ("duplicate", "stu_corrected")
        unrelated = check("stu_unrelated", "陈思雨", id_number=SIYU_ID, refused_before=("stu_refused",)).payload
        answer = await replica.verdict(unrelated)
        assert (answer.verdict.value, answer.existing_student_id) == ("duplicate", "stu_corrected")


async def test_an_identity_from_a_newer_producer_with_fields_unknown_here_is_indexed(start_app, isolation, wait_for):
    """Additive contracts (issue 15, defect 9): the follower and the persisting consumer of registry.identity.v1 ignore
    fields they do not know (envelope and payload) instead of skipping or dead-lettering the identity."""
    dedupe = await start_app(create_app, DedupeSettings)
    kafka = isolation.servers.kafka
    newer = json.loads(identity("stu_first", "陈思雨", id_number=SIYU_ID).model_dump_json())
    newer["trace_flags"] = "01"
    newer["payload"]["nationality"] = "CN"
    await send(kafka, isolation.topic(REGISTRY_IDENTITY.name), json.dumps(newer).encode(), key=b"stu_first")
    await wait_for(indexed(dedupe, 1))
    stored = dedupe.app.state.runtime.db["candidates"]
    await wait_for(lambda: stored.count_documents({}))

    second = check("stu_second", "陈诗雨", id_number=SIYU_ID)
    await send(kafka, isolation.topic(DEDUPE_CHECK.name), second)
    (answer,) = answering(second.correlation_id)(
        await published(kafka, isolation.topic(DEDUPE_VERDICT.name), answering(second.correlation_id))
    )
    assert answer["payload"]["verdict"] == "duplicate"
    assert answer["payload"]["existing_student_id"] == "stu_first"


async def test_r01_an_operators_check_holds_no_one_and_the_enrollment_after_it_is_unique(start_app, token):
    """Checking a new child before acting (no student id yet) was a 500, and with one it held the child as if enrolled:
    the real enrollment straight after was refused as a duplicate of the check."""
    dedupe = await start_app(create_app, DedupeSettings)
    body = {"name": "陈思雨", "id_number": SIYU_ID, "birth_date": BORN.isoformat(), "gender": "female",
            "school_code": "3502030002"}  # fmt: skip
    for asked in (body, body | {"student_id": "stu_asked"}):
        answer = await dedupe.post("/v1/checks", json=asked, headers=auth(token, "school", "3502030002"))
        assert answer.status_code == 200, answer.text
        assert answer.json()["verdict"] == "unique"
    enrolled = await dedupe.app.state.dedupe.verdict(check("stu_real", "陈思雨", id_number=SIYU_ID).payload)
    assert enrolled.verdict.value == "unique"


async def test_r01_a_check_consumed_again_is_answered_once_even_if_the_relay_reads_the_second_answer_meanwhile(
    start_app, isolation
):
    """A check consumed again in a later batch (the registry's relay published it twice, as under a lease handover
    between two registry replicas) is answered afresh, under a new message id; its writer stages that answer, finds
    the answer's commit stored and deletes its entry. The relay that read the outbox in between (its writer at work
    longer than WRITER_AT_WORK: a bulk import's batch) published that second answer: the registry got two verdicts
    on one request under two message ids and logged `record_begun_otherwise` (a bulk run with two replicas)."""
    from xueji_dedupe.domain.review import check_stream

    dedupe = await start_app(create_app, DedupeSettings)
    kafka, verdicts = isolation.servers.kafka, isolation.topic(DEDUPE_VERDICT.name)
    request = check("stu_twice", "林小明", gender="male")
    await send(kafka, isolation.topic(DEDUPE_CHECK.name), request)
    await published(kafka, verdicts, answering(request.correlation_id))

    store = dedupe.app.state.runtime.events
    store.WRITER_AT_WORK = timedelta(0)  # a writer as slow as under a bulk import's load
    stream = check_stream(request.correlation_id)
    relay_read, loser_done = asyncio.Event(), asyncio.Event()
    waiting, commit = store._waiting, store._commit

    async def relay_reads(limit):  # the relay read the second answer's entry: it judges it once its writer is done
        read = await waiting(limit)
        if any(e.get("aggregate_id") == stream for e in read):
            relay_read.set()
            await asyncio.wait_for(loser_done.wait(), 20)
        return read

    async def second_answer(key, *args, **kwargs):  # staged; stored only once the relay has read its entry
        if not key.startswith(stream):
            return await commit(key, *args, **kwargs)
        await asyncio.wait_for(relay_read.wait(), 20)
        try:
            return await commit(key, *args, **kwargs)
        finally:
            loser_done.set()

    store._waiting, store._commit = relay_reads, second_answer
    later = check("stu_later", "王芳")
    await send(kafka, isolation.topic(DEDUPE_CHECK.name), request, later)
    await published(kafka, verdicts, answering(later.correlation_id))
    await asyncio.wait_for(loser_done.wait(), 20)
    await asyncio.sleep(1.0)  # the relay had time to publish a second answer, if there were one
    found = await published(kafka, verdicts, answering(later.correlation_id))
    assert len(answering(request.correlation_id)(found)) == 1

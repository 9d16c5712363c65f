"""The national tier (the same code with scope=national) over the real broker and store (R03, R10): Fujian's
dedupe forwards its identities and G-number/key-info checks; the national index also holds Hunan's records; a
bridge stands in for MirrorMaker 2 between the provincial and the national topics, routing answers back to the
asking province only."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime
from typing import Any

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from dedupe_driver import answering, check, identity, indexed, send
from kafka_messages import published, sent_together

from bench.synthetic import id_number_for
from xueji_contracts.envelope import envelop
from xueji_contracts.messages.dedupe import CheckPurpose, VerdictGiven, VerdictKind
from xueji_contracts.topics import (
    DEDUPE_CHECK,
    DEDUPE_VERDICT,
    NATIONAL_CHECK,
    NATIONAL_IDENTITY,
    NATIONAL_VERDICT,
    REGISTRY_IDENTITY,
    all_topic_names,
)
from xueji_dedupe.app import create_app
from xueji_dedupe.settings import DedupeSettings

pytestmark = pytest.mark.integration
HUNAN_BORN, FUJIAN_BORN = date(2013, 9, 1), date(2014, 2, 14)
HUNAN_ID = id_number_for("430102", HUNAN_BORN, 13)  # a boy from Changsha
FUJIAN_ID = id_number_for("350203", FUJIAN_BORN, 24)


async def test_r03_r10_national_tier_answers_cross_province_checks(start_app, isolation, tmp_path, wait_for, mirror):
    kafka, fujian, hub = isolation.servers.kafka, isolation.topic_prefix, f"{isolation.topic_prefix}hub."
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka)
    await admin.start()
    await admin.create_topics([NewTopic(hub + name, 1, 1) for name in all_topic_names()])
    await admin.close()
    register = tmp_path / "register.json"
    people = [(FUJIAN_ID, "陈思雨", FUJIAN_BORN, "female"), (HUNAN_ID, "刘子涵", HUNAN_BORN, "male")]
    register.write_text(
        json.dumps(
            [
                dict(zip(("id_number", "name", "birth_date", "gender"), (i, n, b.isoformat(), g), strict=True))
                for i, n, b, g in people
            ]
        )
    )

    province = await start_app(create_app, DedupeSettings)
    national = await start_app(
        create_app,
        DedupeSettings,
        scope="national",
        topic_prefix=hub,
        mongodb_database=f"{isolation.database}_national",
        population_register_file=register,
    )
    routes = [
        (fujian + NATIONAL_IDENTITY.name, hub + NATIONAL_IDENTITY.name, None),
        (fujian + NATIONAL_CHECK.name, hub + NATIONAL_CHECK.name, None),
        (hub + NATIONAL_VERDICT.name, fujian + NATIONAL_VERDICT.name, "35"),  # Fujian's answers only (R52)
    ]
    async with mirror(*routes):
        # Hunan's dedupe forwarded its student; Fujian's registry records one of its own.
        hunan = identity("stu_hn_1", "刘子涵", province="43", id_number=HUNAN_ID, birth_date=HUNAN_BORN, gender="male",
                         school_code="4301020001", status_number="G" + HUNAN_ID)  # fmt: skip
        await send(kafka, hub + NATIONAL_IDENTITY.name, hunan, key=b"stu_hn_1")
        mine = identity(
            "stu_fj_1", "陈思雨", id_number=FUJIAN_ID, birth_date=FUJIAN_BORN, status_number="G" + FUJIAN_ID
        )
        await send(kafka, fujian + REGISTRY_IDENTITY.name, mine, key=b"stu_fj_1")
        await wait_for(indexed(national, 2))
        assert len(province.app.state.dedupe.keeper.index) == 1  # Hunan's record never reaches Fujian

        # R03: the boy came from Hunan and was enrolled again in Fujian under an L number; issuing his G number
        # asks the national tier, which knows his Hunan record.
        moved = check("stu_fj_2", "刘子涵", purpose=CheckPurpose.G_NUMBER_ISSUANCE, id_number=HUNAN_ID,
                      birth_date=HUNAN_BORN, gender="male")  # fmt: skip
        # R10: a G student's key-information change (a corrected name) is checked nationally and compared.
        renamed = check("stu_fj_1", "陈思宇", purpose=CheckPurpose.KEY_INFO_CHANGE, id_number=FUJIAN_ID,
                        birth_date=FUJIAN_BORN, status_number="G" + FUJIAN_ID)  # fmt: skip
        await send(kafka, fujian + DEDUPE_CHECK.name, moved, renamed)
        verdicts = fujian + DEDUPE_VERDICT.name
        found = await published(
            kafka, verdicts, lambda f: answering(moved.correlation_id)(f) and answering(renamed.correlation_id)(f)
        )

    (duplicate,) = [m["payload"] for m in answering(moved.correlation_id)(found)]
    assert (duplicate["verdict"], duplicate["tier"], duplicate["existing_student_id"]) == (
        "duplicate",
        "national",
        "stu_hn_1",
    )
    assert duplicate["population_register"] == "match"
    (changed,) = [m["payload"] for m in answering(renamed.correlation_id)(found)]
    assert (changed["verdict"], changed["tier"]) == ("unique", "national")  # never its own duplicate
    assert changed["population_register"] == "mismatch"  # the register still says 陈思雨
    assert "人口信息比对不一致" in changed["reason_zh"]


async def test_national_answers_are_recorded_a_batch_at_a_time_once_each_and_a_malformed_one_dead_lettered(
    start_app, isolation, wait_for
):
    """Issue 19: the province consumes the national tier's answers in batches. Each forwarded check is answered once
    on dedupe.verdict.v1, a redelivered answer changes nothing, a malformed one beside them is dead-lettered alone."""
    kafka, prefix = isolation.servers.kafka, isolation.topic_prefix
    await start_app(create_app, DedupeSettings)
    checks = [
        check(f"stu_fj_{i}", "陈思雨", purpose=CheckPurpose.G_NUMBER_ISSUANCE, id_number=FUJIAN_ID,
              birth_date=FUJIAN_BORN)
        for i in range(2)
    ]  # fmt: skip
    await send(kafka, prefix + DEDUPE_CHECK.name, *checks)
    await published(kafka, prefix + NATIONAL_CHECK.name, lambda found: len(found) >= 2)  # forwarded, not answered
    answers = [
        envelop(
            VerdictGiven(verdict=VerdictKind.UNIQUE, purpose=CheckPurpose.G_NUMBER_ISSUANCE, student_id=c.payload.student_id,
                         score=0.0, reason_zh="无", reason_en="none", tier="national"),
            producer="national", province="35", occurred_at=datetime.now(UTC), correlation_id=c.correlation_id,
        ).model_dump_json().encode()
        for c in checks
    ]  # fmt: skip
    topic = prefix + NATIONAL_VERDICT.name
    await sent_together(kafka, topic, [*answers, b'{"payload": {}}', answers[0]])
    letters = await published(kafka, topic + ".dlq", lambda found: len(found) >= 1)
    assert [(letter["offset"], letter["error_type"]) for letter in letters] == [(2, "ValidationError")]

    def answered(found: list[dict[str, Any]]) -> bool:
        return all(answering(c.correlation_id)(found) for c in checks)

    await published(kafka, prefix + DEDUPE_VERDICT.name, answered)
    await asyncio.sleep(1.0)  # the redelivered answer (in the same fetch) has had its turn
    found = await published(kafka, prefix + DEDUPE_VERDICT.name, answered)
    assert sorted(len(answering(c.correlation_id)(found)) for c in checks) == [1, 1]
    assert {m["payload"]["tier"] for m in found} == {"national"}

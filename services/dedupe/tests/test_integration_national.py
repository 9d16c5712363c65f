"""The national tier (the same code with scope=national) over the real broker and store (R03, R10): Fujian's
dedupe forwards its identities and G-number/key-info checks; the national index also holds Hunan's records; a
bridge stands in for MirrorMaker 2 between the provincial and the national topics, routing answers back to the
asking province only."""

from __future__ import annotations

import json
from datetime import date

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from dedupe_driver import answering, check, identity, indexed, send
from kafka_messages import published

from bench.synthetic import id_number_for
from xueji_contracts.messages.dedupe import CheckPurpose
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

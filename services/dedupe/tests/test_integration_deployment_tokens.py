"""Tokens of one deployment are not accepted by another (R50): where provinces share an identity provider's signing
key, a Hunan operator's token is refused at Fujian's dedupe, a province's at the national tier; the Ministry's is
taken at both."""

from __future__ import annotations

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from dedupe_driver import auth

from xueji_contracts.topics import all_topic_names
from xueji_dedupe.app import create_app
from xueji_dedupe.settings import DedupeSettings

pytestmark = pytest.mark.integration


async def test_r50_a_deployment_refuses_another_provinces_operators_and_takes_the_ministrys(
    start_app, isolation, token
):
    hub = f"{isolation.topic_prefix}hub."
    admin = AIOKafkaAdminClient(bootstrap_servers=isolation.servers.kafka)
    await admin.start()
    await admin.create_topics([NewTopic(hub + name, 1, 1) for name in all_topic_names()])
    await admin.close()
    fujian = await start_app(create_app, DedupeSettings, national_enabled=False)
    national = await start_app(
        create_app, DedupeSettings, scope="national", topic_prefix=hub, mongodb_database=f"{isolation.database}_nat"
    )

    # Before, Hunan's province office read Fujian's index size here: accepted, its jurisdiction its own code.
    hunan = await fujian.get("/v1/index", headers=auth(token, "province", "430000"))
    assert hunan.status_code == 401, hunan.text
    assert hunan.json()["detail"] == "code: token for province 43; this deployment serves 35"
    assert (await fujian.get("/v1/index", headers=auth(token, "province", "350000"))).status_code == 200

    at_hub = await national.get("/v1/index", headers=auth(token, "province", "350000"))
    assert at_hub.status_code == 401, at_hub.text
    assert at_hub.json()["detail"].startswith("code: token for province 35; this deployment serves the nation")
    for service in (fujian, national):
        ministry = await service.get("/v1/index", headers=auth(token, "ministry", "000000"))
        assert ministry.status_code == 200, ministry.text

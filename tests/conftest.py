"""Fixtures of the cross-service tests (tests/): the national tier beside the province."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def national_tier(isolation: Any, start_app: Any, mirror: Any) -> Callable[[Path], Any]:
    """`async with national_tier(register):` the national tier's dedupe on its own hub topics, with `register` (a JSON
    file) as the population register, mirrored to and from this province as MirrorMaker 2 links them: the
    province's identities and checks go up, the verdicts addressed to province 35 come back."""
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    from xueji_contracts.topics import NATIONAL_CHECK, NATIONAL_IDENTITY, NATIONAL_VERDICT, all_topic_names
    from xueji_dedupe.app import create_app as create_dedupe
    from xueji_dedupe.settings import DedupeSettings

    @contextlib.asynccontextmanager
    async def running(register: Path) -> AsyncIterator[None]:
        hub = f"{isolation.topic_prefix}hub."
        admin = AIOKafkaAdminClient(bootstrap_servers=isolation.servers.kafka)
        await admin.start()
        try:
            await admin.create_topics([NewTopic(hub + name, 1, 1) for name in all_topic_names()])
        finally:
            await admin.close()
        await start_app(
            create_dedupe, DedupeSettings, scope="national", topic_prefix=hub,
            mongodb_database=f"{isolation.database}_national", population_register_file=register,
        )  # fmt: skip
        routes = [
            (isolation.topic(NATIONAL_IDENTITY.name), hub + NATIONAL_IDENTITY.name, None),
            (isolation.topic(NATIONAL_CHECK.name), hub + NATIONAL_CHECK.name, None),
            (hub + NATIONAL_VERDICT.name, isolation.topic(NATIONAL_VERDICT.name), "35"),
        ]
        async with mirror(*routes):
            yield

    return running

"""Readiness over the real broker and store: a ping that is slow under load does not flap /readyz; a broker that has
not answered for kafka_ready_grace_seconds turns it not ready, and its next answer makes it ready again."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from xueji_kit.readiness import BrokerContact
from xueji_kit.runtime import ServiceRuntime
from xueji_kit.settings import ServiceSettings

pytestmark = pytest.mark.integration


async def test_a_slow_ping_keeps_the_service_ready_and_a_broker_away_past_the_grace_does_not(isolation, signing_keys):
    settings = ServiceSettings(**isolation.settings_env(), service_name="readiness", jwt_public_key=signing_keys[1],
                               mongodb_database=f"{isolation.database}_ready", kafka_ready_grace_seconds=10)  # fmt: skip
    runtime = ServiceRuntime(settings, title="t", description="readiness")
    app = runtime.http_app()
    now = [0.0]
    runtime.broker_contact = BrokerContact(settings.kafka_ready_grace_seconds, clock=lambda: now[0])
    real_ping = runtime.broker.ping

    async def no_answer(timeout: float | None) -> bool:  # what a describe_cluster past its timeout gives
        await asyncio.sleep(0.01)
        return False

    async with app.router.lifespan_context(app):
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
        assert (await client.get("/readyz")).status_code == 200
        runtime.broker.ping = no_answer  # type: ignore[method-assign]
        now[0] += 9.0  # no answer for 9 s: a loaded node, not an outage
        answer = await client.get("/readyz")
        assert answer.status_code == 200, answer.text
        now[0] += 2.0  # 11 s without an answer: the broker is away
        answer = await client.get("/readyz")
        assert answer.status_code == 503 and answer.json()["checks"] == {"kafka": False, "mongodb": True}
        runtime.broker.ping = real_ping  # type: ignore[method-assign]
        assert (await client.get("/readyz")).status_code == 200  # it answers again
        runtime.broker.ping = no_answer  # type: ignore[method-assign]
        now[0] += 1.0
        assert (await client.get("/readyz")).status_code == 200  # the grace counts from the last answer
        await client.aclose()

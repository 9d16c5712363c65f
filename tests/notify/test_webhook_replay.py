"""R22: deliveries dead-lettered on notify.webhook.dlq are replayed by the operator once the receiver is fixed.

The letters there are `WebhookDeliveryFailed` records, not the consumers' `DeadLetter`s: there is no original topic
to publish them back to, so `python -m xueji_kit.dlq` cannot replay them. `python -m xueji_notify.webhook_dlq` lists
them and replays a hook's, a time window's or all of them: each stored delivery is attempted again under its own
delivery id (the receiver applies it once), a delivered one is not attempted again.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import notify_events as ev
import pytest
from test_webhooks import dead_letters, school_hooks

from xueji_contracts.topics import NOTIFY_WEBHOOK_DLQ
from xueji_kit.dlq import client_options
from xueji_kit.dlq import replay as dlq_replay

pytestmark = pytest.mark.integration


async def test_r22_the_operator_replays_a_hooks_dead_lettered_deliveries_under_their_own_delivery_ids(
    start_app, isolation, token, wait_for, receiver, capsys
):
    from xueji_notify.webhook_dlq import main as webhook_dlq

    script = {"/down": ["fail"], "/other": ["fail"]}
    hooks, notify, school, registered = await school_hooks(start_app, receiver, token, script, webhook_max_attempts=2)
    down, other = registered["/down"], registered["/other"]
    async with ev.Upstream(isolation) as upstream:
        await upstream.send(ev.opened(ev.transfer_id()))
    letters = {x["payload"]["webhook_id"]: x["payload"] for x in await dead_letters(isolation, 2)}
    dead = letters[down["webhook_id"]]["delivery_id"]

    settings = notify.app.state.notify.settings
    env = {"KAFKA_BOOTSTRAP_SERVERS": isolation.servers.kafka, "MONGODB_URI": isolation.servers.mongodb,
           "XUEJI_MONGODB_DATABASE": settings.database_name, "XUEJI_TOPIC_PREFIX": isolation.topic_prefix}  # fmt: skip

    async def cli(*argv: str) -> str:
        with pytest.MonkeyPatch.context() as patch:
            for variable, value in env.items():
                patch.setenv(variable, value)
            assert await asyncio.to_thread(webhook_dlq, list(argv)) == 0
        return capsys.readouterr().out

    kit_replay = await dlq_replay(client_options(settings), settings.topic(NOTIFY_WEBHOOK_DLQ.name), dry_run=True)
    assert kit_replay[0] == [] and "WebhookDeliveryFailed is no dead letter" in kit_replay[1][0]  # not its tool

    listed = await cli("list")
    assert dead in listed and down["webhook_id"] in listed and "HTTP 503" in listed
    assert letters[other["webhook_id"]]["delivery_id"] in listed

    hooks.script["/down"] = ["ok"]  # the receiver is fixed
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert "replayed" not in await cli("replay", "--since", future)  # no letter failed in that window
    assert f"replayed {dead}" in await cli("replay", "--hook", down["webhook_id"])

    async def delivered():
        path = f"/v1/webhooks/{down['webhook_id']}/deliveries"
        [delivery] = (await notify.get(path, headers=school)).json()["deliveries"]
        return delivery if delivery["state"] == "delivered" else None

    delivery = await wait_for(delivered, timeout=40)
    assert delivery["delivery_id"] == dead and [a["status"] for a in delivery["attempts"]] == [503, 503, 200]
    assert hooks.applied == {dead: 1}  # the same delivery id as the failed attempts: applied once

    again = await cli("replay", "--hook", down["webhook_id"])  # idempotent: a delivered one is not sent again
    assert "replayed" not in again and f"skipped {dead}: delivered" in again
    # The other hook's receiver still fails: replayed with all, it gets a whole new round of tries and is
    # dead-lettered again (a second letter), not silently dropped.
    assert f"replayed {letters[other['webhook_id']]['delivery_id']}" in await cli("replay", "--all")
    third = await dead_letters(isolation, 3)
    assert [x["payload"]["delivery_id"] for x in third].count(letters[other["webhook_id"]]["delivery_id"]) == 2
    assert sum(1 for r in hooks.received if r.delivery_id == letters[other["webhook_id"]]["delivery_id"]) == 4
    assert sum(1 for r in hooks.received if r.delivery_id == dead) == 3

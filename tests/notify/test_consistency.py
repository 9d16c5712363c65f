"""The notify consistency checker (issue 15): 0 differences when notify handled every message, and each kind of
damage named: a lost notification, a stage projection that missed a breach, a stale count, a delivery never made."""

from __future__ import annotations

import asyncio
import contextlib

import notify_events as ev
import pytest
from webhook_receiver import Receiver, self_signed

from xueji_contracts.envelope import derive_id
from xueji_contracts.topics import TRANSFER_SLA, TRANSFER_STAGE
from xueji_notify.app import create_app
from xueji_notify.consistency import differences, rebuild
from xueji_notify.settings import NotifySettings

pytestmark = pytest.mark.integration


@pytest.fixture
async def receiver(tmp_path):
    cert, key = self_signed(tmp_path)
    hooks = Receiver({"/county": ["ok"]})
    server, task = await hooks.serve(cert, key)
    hooks.cert = cert
    yield hooks
    server.should_exit = True
    with contextlib.suppress(Exception):
        await asyncio.wait_for(task, 10)


async def test_the_checker_finds_nothing_after_a_clean_run_and_names_each_damage(
    start_app, isolation, token, wait_for, receiver
):
    notify = await start_app(create_app, NotifySettings, webhook_ca_file=receiver.cert, webhook_tick_seconds=0.1)
    county = token("county", ev.COUNTY)
    answer = await notify.post("/v1/webhooks", headers={"Authorization": f"Bearer {county}"},
                               json={"url": f"{receiver.base_url}/county", "consent_reference": "闽教基〔2026〕12号"})  # fmt: skip
    hook = answer.json()
    receiver.secrets["/county"] = hook["secret"]
    tid = ev.transfer_id()
    opened = ev.opened(tid)
    due = opened.payload.deadline.due_at
    sla = [ev.warning(tid, due), ev.breached(tid, due)]
    async with ev.Upstream(isolation) as upstream:
        await upstream.send(opened, *sla)
    # The records as the topics hold them: the bytes Upstream published.
    records = [(TRANSFER_STAGE.name, opened.model_dump_json().encode())]
    records += [(TRANSFER_SLA.name, m.model_dump_json().encode()) for m in sla]
    db = notify.app.state.runtime.db

    async def consistent():
        return await differences(db, records) == []

    await wait_for(consistent, timeout=40, interval=0.5)
    notes = rebuild(records).notes
    assert len(notes) == 4  # opened, warning, and the breach told to the late school and to the county

    escalation = next(n for n in notes.values() if n.kind.value == "stage_escalated")
    await db["notifications"].delete_one({"_id": escalation.notification_id})
    key = f"{tid}:receiving_school"
    await db["dashboard_stages"].update_one({"_id": key}, {"$unset": {"breach_due_at": ""}})
    await db["dashboard_nodes"].update_one({"_id": ev.COUNTY}, {"$set": {"total.escalated": 7}})
    delivery = str(derive_id(escalation.notification_id, hook["webhook_id"], "webhook"))
    await db["webhook_deliveries"].delete_one({"_id": delivery})

    found = {(d.projection, d.subject) for d in await differences(db, records)}
    assert found == {
        ("inbox", escalation.notification_id),
        ("dashboard_stages", key),
        ("dashboard_counts", ev.COUNTY),
        ("webhook_deliveries", delivery),
    }

"""R22: the webhooks a notification goes to are found by `_id` reads, never a scan of the webhooks collection.

Finding them was a filter on `scope $in [...]` and `active`, which FerretDB 1.x (the local store) serves by reading
the whole collection: the hottest query of notify, once per notification. Counted with pymongo's command monitoring
(xueji_kit.store_commands) on the real store.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from xueji_kit import store_commands
from xueji_kit.store import connect
from xueji_kit.store_commands import counting, scans, scope, tally
from xueji_kit.timers import TimerStore
from xueji_notify.delivery import WebhookDeliverer
from xueji_notify.domain.notification import Kind, Notification, Severity
from xueji_notify.settings import NotifySettings
from xueji_notify.store import WebhookStore

pytestmark = pytest.mark.integration
SCHOOL, COUNTY, FAR_COUNTY = "3506020001", "350602", "350603"


def _note(jurisdiction: str = SCHOOL) -> Notification:
    return Notification(
        notification_id="n-1", kind=Kind.STAGE_WARNING, severity=Severity.WARNING, jurisdiction=jurisdiction,
        title_zh="预警", title_en="warning", subject_id="case-1", created_at=datetime.now(UTC),
        source_message_id="m-1", correlation_id="c-1", details={},
    )  # fmt: skip


def _hook(hook_id: str, scope: str, active: bool = True) -> dict:
    return {"_id": hook_id, "jurisdiction": scope, "scope": scope, "active": active, "kinds": [],
            "url": f"https://127.0.0.1:9/{hook_id}", "secret": "s"}  # fmt: skip


def _deliverer(hooks: WebhookStore, database) -> WebhookDeliverer:
    return WebhookDeliverer(NotifySettings(province="35"), hooks, TimerStore(database), None, None)  # type: ignore[arg-type]


async def _delivered_to(hooks: WebhookStore, note: Notification) -> set[str]:
    await _deliverer(hooks, hooks.webhooks.database).schedule(note)
    docs = hooks.deliveries.find({"notification_id": note.notification_id})
    return {d["webhook_id"] async for d in docs}


async def test_r22_delivering_a_notification_reads_its_webhooks_by_id_and_scans_nothing(isolation) -> None:
    store_commands.install()  # before the client is made
    client = connect(isolation.servers.mongodb)
    try:
        database = client[f"{isolation.database}_scopes"]
        hooks = WebhookStore(database)
        for n in range(20):  # hooks elsewhere in the province: what a scan would read
            await hooks.register(_hook(f"far-{n}", FAR_COUNTY))
        await hooks.register(_hook("county", COUNTY))
        # The first attempt is due now. Armed in a minute's last 10 s (LATE_MARGIN), the timer store also writes a
        # note reopening the next minute, one insert more in one run of six: a timer rule, not what this test counts.
        # Its clock is set back so the attempt is never judged past due.
        behind = TimerStore(database, clock=lambda: datetime.now(UTC) - timedelta(seconds=30))
        deliverer = WebhookDeliverer(NotifySettings(province="35"), hooks, behind, None, None)  # type: ignore[arg-type]
        with counting(database.name) as log, scope("deliver"):
            await deliverer.schedule(_note())
        commands = log.take("deliver")
    finally:
        await client.close()
    assert scans(commands) == []
    assert tally(commands) == {
        # the school's, county's, city's and province's hooks: the county's one and a miss after it, a miss each
        # for the other three; the county's hook itself; its delivery, its line in the hook's delivery log, and its
        # first attempt's timer; the start of the hook's log (trimmed by the delivery retention) where this new
        # process begins appending, and once the delivery is stored, to see its line still kept
        "find webhook_scopes": 5,
        "find webhooks": 1,
        "insert webhook_deliveries": 1,
        "insert webhook_delivery_log": 1,
        "find webhook_delivery_log_starts": 2,
        "insert timers_m<minute>": 1,
    }


async def test_r22_hooks_registered_together_in_one_scope_each_get_the_notification(database) -> None:
    hooks = WebhookStore(database)
    await asyncio.gather(*(hooks.register(_hook(f"h-{n}", COUNTY)) for n in range(8)))
    await asyncio.gather(*(hooks.register(_hook(f"h-{n}", COUNTY)) for n in range(8)))  # retried: still once each
    assert await _delivered_to(hooks, _note()) == {f"h-{n}" for n in range(8)}
    assert await database["webhook_scopes"].count_documents({}) == 8


async def test_r22_a_stopped_hook_gets_nothing_until_activated_again(database) -> None:
    hooks = WebhookStore(database)
    await hooks.register(_hook("a", COUNTY))
    await hooks.register(_hook("b", SCHOOL))
    await hooks.deactivate("a", datetime.now(UTC), "stopped by owner")
    assert await _delivered_to(hooks, _note()) == {"b"}
    await hooks.activate("a", datetime.now(UTC), "owner")
    assert await _delivered_to(hooks, _note().model_copy(update={"notification_id": "n-2"})) == {"a", "b"}


async def test_r22_hooks_stored_before_the_upgrade_are_delivered_to_after_it(database) -> None:
    """The startup step files the hooks stored before `_id` lookups existed; run twice, and on two replicas at
    once, it files each hook once."""
    hooks = WebhookStore(database)
    await hooks.webhooks.insert_many([_hook("old-county", COUNTY), _hook("old-far", FAR_COUNTY),
                                      _hook("old-stopped", SCHOOL, active=False)])  # fmt: skip
    await asyncio.gather(hooks.upgrade(), WebhookStore(database).upgrade())
    await hooks.upgrade()
    assert await _delivered_to(hooks, _note()) == {"old-county"}
    assert await database["webhook_scopes"].count_documents({}) == 3

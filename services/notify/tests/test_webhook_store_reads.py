"""R22: the webhook store's other reads go by `_id` too, and a scope's slots do not grow with its dead hooks.

An owner's delivery log (`deliveries_of`), the hooks listed under a jurisdiction (`under`) and a replay's reopening
(`reopen`) filtered on `webhook_id`, on a `scope` prefix and on `state`: FerretDB 1.x (the local store) reads the
whole collection for each, and `webhook_deliveries` grows with every notification. A scope's slots were never pruned,
so a notification read two documents for every hook ever registered at its scopes, stopped ones included. Counted
with pymongo's command monitoring (xueji_kit.store_commands) on the real store.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from xueji_kit import store_commands
from xueji_kit.store import connect
from xueji_kit.store_commands import counting, scans, scope, tally
from xueji_notify.store import WebhookStore

pytestmark = pytest.mark.integration
SCHOOL, COUNTY, FAR_COUNTY = "3506020001", "350602", "350603"
T0 = datetime(2026, 12, 1, tzinfo=UTC)


def _hook(hook_id: str, scope_: str, active: bool = True) -> dict:
    return {"_id": hook_id, "jurisdiction": scope_, "scope": scope_, "active": active, "kinds": [],
            "url": f"https://127.0.0.1:9/{hook_id}", "secret": "s"}  # fmt: skip


def _delivery(delivery_id: str, hook_id: str, minute: int, state: str = "pending") -> dict:
    return {"_id": delivery_id, "webhook_id": hook_id, "notification_id": delivery_id, "jurisdiction": COUNTY,
            "url": "https://127.0.0.1:9/", "body": "{}", "state": state, "attempts": [],
            "created_at": T0 + timedelta(minutes=minute)}  # fmt: skip


@pytest.fixture
async def counted(isolation):
    """A database whose commands can be counted: the listener is installed before its client is made."""
    store_commands.install()
    client = connect(isolation.servers.mongodb)
    try:
        yield client[f"{isolation.database}_reads"]
    finally:
        await client.close()


async def test_r22_an_owners_delivery_log_is_read_by_id_latest_first(counted) -> None:
    hooks = WebhookStore(counted)
    for n in range(12):  # another hook's deliveries, before, between and after: what a scan would read
        await hooks.add_delivery(_delivery(f"other-{n}", "other", n))
        if n % 2:
            await hooks.add_delivery(_delivery(f"mine-{n}", "mine", n))
    await hooks.add_delivery(_delivery("mine-1", "mine", 1))  # a redelivery: listed once
    reader = WebhookStore(counted)  # another replica, which has appended nothing
    with counting(counted.name) as log, scope("list"):
        latest = await reader.deliveries_of("mine", 4)
        every = await reader.deliveries_of("mine", 50)
    commands = log.take("list")
    assert [d["_id"] for d in latest] == ["mine-11", "mine-9", "mine-7", "mine-5"]
    assert [d["_id"] for d in every] == ["mine-11", "mine-9", "mine-7", "mine-5", "mine-3", "mine-1"]
    assert scans(commands) == []


async def test_r22_hooks_under_a_jurisdiction_are_listed_by_id_in_registration_order(counted) -> None:
    hooks = WebhookStore(counted)
    await hooks.register(_hook("school", SCHOOL))
    await hooks.register(_hook("far", FAR_COUNTY))
    await hooks.register(_hook("county", COUNTY))
    await hooks.register(_hook("county", COUNTY))  # a retry: listed once
    await hooks.deactivate("county", T0, "stopped by owner")  # a stopped hook is still listed, with its state
    with counting(counted.name) as log, scope("under"):
        in_county = [h["_id"] for h in await hooks.under(COUNTY)]
        in_city = [h["_id"] for h in await hooks.under("3506")]
        at_school = [h["_id"] for h in await hooks.under(SCHOOL)]
        everywhere = [h["_id"] for h in await hooks.under("")]
    commands = log.take("under")
    assert in_county == ["school", "county"]
    assert in_city == everywhere == ["school", "far", "county"]
    assert at_school == ["school"]
    assert (await hooks.under(COUNTY))[1]["active"] is False
    assert scans(commands) == []


async def test_r22_a_replay_reopens_the_failed_delivery_by_id_once(counted) -> None:
    hooks = WebhookStore(counted)
    failed = _delivery("d-1", "mine", 0, state="failed") | {"attempts": [{"attempt": 1}, {"attempt": 2}]}
    await hooks.add_delivery(failed)
    with counting(counted.name) as log, scope("reopen"):
        first = await hooks.reopen(failed, T0)
        again = await WebhookStore(counted).reopen(failed, T0)  # the same letter replayed twice: once
    commands = log.take("reopen")
    assert (first, again) == (True, False)
    stored = await hooks.delivery("d-1")
    assert stored is not None
    assert (stored["state"], stored["round_start"], stored["replays"]) == ("pending", 2, 1)
    assert scans(commands) == []
    # Failed again, the next replay reopens it again.
    await hooks.finish("d-1", {"state": "failed"})
    assert await hooks.reopen(await hooks.delivery("d-1") or {}, T0) is True


async def test_r22_replays_racing_for_one_failed_delivery_reopen_it_once(counted) -> None:
    hooks = WebhookStore(counted)
    failed = _delivery("d-1", "mine", 0, state="failed")
    await hooks.add_delivery(failed)
    done = await asyncio.gather(*(WebhookStore(counted).reopen(failed, T0) for _ in range(6)))
    assert sorted(done) == [False] * 5 + [True]
    assert (await hooks.delivery("d-1") or {})["replays"] == 1


async def test_r22_a_stopped_hooks_slot_is_pruned_so_a_notification_reads_only_the_live_ones(counted) -> None:
    hooks = WebhookStore(counted)
    for n in range(10):
        await hooks.register(_hook(f"h-{n}", COUNTY))
    for n in range(9):
        await hooks.deactivate(f"h-{n}", T0, "stopped by owner")
    with counting(counted.name) as log, scope("find"):
        found = await hooks.for_scopes([COUNTY])
    commands = log.take("find")
    assert [h["_id"] for h in found] == ["h-9"]
    # the skip over the nine stopped hooks' slots, h-9's slot, the miss after it; h-9 itself
    assert tally(commands) == {"find webhook_scopes": 3, "find webhooks": 1}
    await hooks.activate("h-3", T0, "owner")  # activated again: filed again, after the others
    assert [h["_id"] for h in await hooks.for_scopes([COUNTY])] == ["h-9", "h-3"]


class _HeldWrites:
    """A collection whose updates wait for `release`: a pruner held between reading and writing its skips."""

    def __init__(self, collection) -> None:
        self._collection = collection
        self.reached, self.release = asyncio.Event(), asyncio.Event()

    def __getattr__(self, name: str):
        return getattr(self._collection, name)

    async def update_one(self, *args, **kwargs):
        self.reached.set()
        await self.release.wait()
        return await self._collection.update_one(*args, **kwargs)


async def test_r22_a_hook_activated_while_a_pruner_skips_its_slot_is_still_delivered_to(counted) -> None:
    """The pruner read the hook stopped; the owner activates it before the pruner writes its skip over the hook's
    slot. The activation files the hook anew, after the slots the pruner read, so the skip hides nothing live."""
    hooks = WebhookStore(counted)
    for hook_id in ("a", "b", "c"):
        await hooks.register(_hook(hook_id, COUNTY))
    await hooks.webhooks.update_many({"_id": {"$in": ["a", "b"]}}, {"$set": {"active": False}})  # stopped, unpruned
    pruner = WebhookStore(counted)
    held = _HeldWrites(pruner.scopes)
    pruner.scopes = held  # type: ignore[assignment]
    pruning = asyncio.create_task(pruner.prune(COUNTY))
    await asyncio.wait_for(held.reached.wait(), 30)  # read a and b stopped; its skip over their slots not written
    await WebhookStore(counted).activate("a", T0, "owner")
    held.release.set()
    await pruning
    assert [h["_id"] for h in await WebhookStore(counted).for_scopes([COUNTY])] == ["c", "a"]


async def test_r22_two_replicas_registering_stopping_and_activating_at_once_lose_no_live_hook(counted) -> None:
    one, two = WebhookStore(counted), WebhookStore(counted)
    for n in range(12):
        await one.register(_hook(f"old-{n}", COUNTY))
    for n in range(0, 12, 3):
        await one.deactivate(f"old-{n}", T0, "stopped by owner")
    live = {f"old-{n}" for n in range(12) if n % 3}
    for round_ in range(3):
        replicas = [one, two]
        work = []
        for n in range(12):
            hook_id = f"old-{n}"
            store = replicas[n % 2]
            if hook_id in live and n % 4 == round_:
                work.append(store.deactivate(hook_id, T0, "stopped by owner"))
                live.discard(hook_id)
            elif hook_id not in live and n % 4 != round_:
                work.append(store.activate(hook_id, T0, "owner"))
                live.add(hook_id)
        for n in range(4):
            work.append(replicas[n % 2].register(_hook(f"new-{round_}-{n}", COUNTY)))
            live.add(f"new-{round_}-{n}")
        await asyncio.gather(*work)
        for store in (one, two, WebhookStore(counted)):
            assert {h["_id"] for h in await store.for_scopes([COUNTY])} == live, f"round {round_}"


async def test_r22_the_upgrade_files_stored_hooks_and_deliveries_once_then_reads_one_marker(counted) -> None:
    """Hooks and deliveries stored before: filed for delivery, listing and the delivery log, and the dead slots of
    the earlier layout pruned. Run twice and on two replicas at once; after it, a start reads one marker by `_id`."""
    hooks = WebhookStore(counted)
    await hooks.webhooks.insert_many([_hook("old-county", COUNTY), _hook("old-far", FAR_COUNTY),
                                      _hook("old-stopped", SCHOOL, active=False)])  # fmt: skip
    await hooks.scopes.insert_one({"_id": f"{SCHOOL}:0", "webhook_id": "old-stopped"})  # filed by the earlier code
    await hooks.deliveries.insert_many([_delivery(f"d-{n}", "old-county", n) for n in range(3)])
    await asyncio.gather(hooks.upgrade(), WebhookStore(counted).upgrade())
    await hooks.upgrade()
    fresh = WebhookStore(counted)
    assert [h["_id"] for h in await fresh.for_scopes([SCHOOL, COUNTY, "3506", "35"])] == ["old-county"]
    assert [h["_id"] for h in await fresh.under(COUNTY)] == ["old-county", "old-stopped"]
    assert [d["_id"] for d in await fresh.deliveries_of("old-county", 10)] == ["d-2", "d-1", "d-0"]
    with counting(counted.name) as log, scope("start"):
        await WebhookStore(counted).upgrade()
    assert tally(log.take("start")) == {"find webhook_upgrades": 1}

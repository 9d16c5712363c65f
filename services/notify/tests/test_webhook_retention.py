"""R22: webhook deliveries are kept XUEJI_WEBHOOK_DELIVERIES_KEPT_DAYS after they ended, then removed off the hot path.

`webhook_deliveries` and each hook's log in `webhook_delivery_log` were never pruned: a province with a few subscribers
wrote millions of delivery documents a year. The retention job removes the ended (delivered or failed) ones past the
retention from the front of each hook's log, by `_id` only (FerretDB 1.x reads a whole collection for any other
filter), a bounded number a run; a pending one stays. The listing reads from the log's oldest kept entry, a delivery
stored while the job passes its entry stays listed, a replay of a removed delivery says why it is gone, and two
replicas running the job at once remove each delivery once. On the real store, with its commands counted.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import REGISTRY

from xueji_kit import store_commands
from xueji_kit.lease import SlotLease
from xueji_kit.store import connect
from xueji_kit.store_commands import counting, scans, scope
from xueji_kit.timers import TimerStore
from xueji_notify.delivery import WebhookDeliverer
from xueji_notify.domain.notification import Kind, Notification, Severity
from xueji_notify.domain.webhooks import expired
from xueji_notify.retention import DeliveryRetention
from xueji_notify.settings import NotifySettings
from xueji_notify.store import WebhookStore
from xueji_notify.store.retention import prune_log
from xueji_notify.webhook_dlq import replay

pytestmark = pytest.mark.integration
COUNTY = "350602"
NOW = datetime(2026, 12, 1, tzinfo=UTC)
KEPT = timedelta(days=30)
OLD, RECENT = NOW - timedelta(days=40), NOW - timedelta(days=2)


def _hook(hook_id: str) -> dict:
    return {"_id": hook_id, "jurisdiction": COUNTY, "scope": COUNTY, "active": True, "kinds": [],
            "url": f"https://127.0.0.1:9/{hook_id}", "secret": "s"}  # fmt: skip


def _delivery(delivery_id: str, hook_id: str, ended: datetime, state: str = "delivered") -> dict:
    doc = {"_id": delivery_id, "webhook_id": hook_id, "notification_id": delivery_id, "jurisdiction": COUNTY,
           "url": "https://127.0.0.1:9/", "body": "{}", "state": state, "attempts": [],
           "created_at": ended - timedelta(minutes=5)}  # fmt: skip
    return doc | (
        {"delivered_at": ended} if state == "delivered" else {"failed_at": ended} if state == "failed" else {}
    )


def _pruned_total() -> float:
    return REGISTRY.get_sample_value("xueji_webhook_deliveries_pruned_total") or 0.0


def _job(db, holder: str, batch: int = 2000) -> DeliveryRetention:
    lease = SlotLease(db["leases"], "webhook-retention", holder)
    return DeliveryRetention(WebhookStore(db), lease, kept=KEPT, batch=batch, every=3600)


async def _listed(db, hook_id: str) -> list[str]:
    return [d["_id"] for d in await WebhookStore(db).deliveries_of(hook_id, 500)]


@pytest.fixture
async def counted(isolation):
    store_commands.install()
    client = connect(isolation.servers.mongodb)
    try:
        yield client[f"{isolation.database}_keep"]
    finally:
        await client.close()


def test_r22_only_a_delivery_that_ended_before_the_cutoff_expires() -> None:
    cutoff = NOW - KEPT
    assert expired(_delivery("d", "h", OLD), cutoff)
    assert expired(_delivery("d", "h", OLD, "failed"), cutoff)
    assert not expired(_delivery("d", "h", RECENT), cutoff)
    assert not expired(_delivery("d", "h", OLD, "pending"), cutoff)  # retrying, or replayed: kept however old
    replayed = _delivery("d", "h", OLD, "failed") | {"state": "delivered", "delivered_at": RECENT}
    assert not expired(replayed, cutoff)  # ended again, by its replay, within the retention
    assert NotifySettings(province="35").webhook_deliveries_kept_days == 30


async def test_r22_ended_deliveries_past_the_retention_go_recent_and_pending_ones_stay(counted) -> None:
    hooks = WebhookStore(counted)
    await hooks.register(_hook("mine"))
    await hooks.register(_hook("other"))
    for n in range(5):
        await hooks.add_delivery(_delivery(f"old-{n}", "mine", OLD, "failed" if n == 3 else "delivered"))
        await hooks.add_delivery(_delivery(f"other-{n}", "other", OLD))
    await hooks.add_delivery(_delivery("old-pending", "mine", OLD, "pending"))  # still being retried
    await hooks.add_delivery(_delivery("old-after-pending", "mine", OLD))
    await hooks.add_delivery(_delivery("recent", "mine", RECENT))
    before = _pruned_total()
    with counting(counted.name) as log, scope("prune"):
        removed = await _job(counted, "replica-1").run_once(NOW)
    commands = log.take("prune")
    assert removed == 10
    assert _pruned_total() - before == 10
    assert scans(commands) == []  # every read and delete by `_id`
    assert await _listed(counted, "other") == []
    assert sorted(await _listed(counted, "mine")) == ["old-after-pending", "old-pending", "recent"]
    assert await hooks.delivery("old-0") is None and await hooks.delivery("other-4") is None
    assert await hooks.delivery_log.collection.find_one({"_id": "mine:0"}) is None  # its log entry went with it

    # Once the pending one has ended (long ago), it and the one it held back go; the recent one stays.
    await hooks.finish("old-pending", {"state": "failed", "failed_at": OLD})
    assert await _job(counted, "replica-1").run_once(NOW) == 2
    assert await _listed(counted, "mine") == ["recent"]
    assert await _job(counted, "replica-1").run_once(NOW) == 0  # nothing left to remove: idempotent


async def test_r22_a_run_reads_a_bounded_batch_and_the_listing_reads_from_the_oldest_kept_entry(counted) -> None:
    hooks = WebhookStore(counted)
    await hooks.register(_hook("busy"))
    for n in range(250):
        await hooks.add_delivery(_delivery(f"old-{n}", "busy", OLD))
    await hooks.add_delivery(_delivery("recent", "busy", RECENT))
    job = _job(counted, "replica-1", batch=100)
    runs = []
    while (removed := await job.run_once(NOW)) or not runs or job.backlog:
        runs.append(removed)
    assert runs[:3] == [100, 100, 50] and sum(runs) == 250
    with counting(counted.name) as log, scope("list"):
        assert await _listed(counted, "busy") == ["recent"]
    commands = log.take("list")
    assert scans(commands) == []
    # Not the 250 removed entries read back one by one: the start, the end's search from it, the one kept.
    assert len(commands) < 20, [c.filter for c in commands]


async def test_r22_a_replica_appending_after_the_retention_lists_its_delivery_where_readers_see_it(counted) -> None:
    """A replica that last appended long ago (its end as last seen is a removed entry), and one just started (no end
    seen), both list a new delivery after the log's start."""
    stale = WebhookStore(counted)
    await stale.register(_hook("mine"))
    for n in range(3):
        await stale.add_delivery(_delivery(f"old-{n}", "mine", OLD))
    other = WebhookStore(counted)
    for n in range(3, 6):
        await other.add_delivery(_delivery(f"old-{n}", "mine", OLD))
    assert await _job(counted, "replica-1").run_once(NOW) == 6
    await stale.add_delivery(_delivery("new-stale", "mine", NOW))
    await WebhookStore(counted).add_delivery(_delivery("new-fresh", "mine", NOW))
    assert sorted(await _listed(counted, "mine")) == ["new-fresh", "new-stale"]
    assert sorted([(await stale.delivery(d) or {}).get("log_entry") for d in ("new-stale", "new-fresh")]) == [6, 7]
    assert await stale.delivery_log.collection.find_one({"_id": "mine:3"}) is None  # no stray entry left below


class _HeldInserts:
    """A collection whose inserts wait for `release`: a delivery listed in its log, not yet stored."""

    def __init__(self, collection) -> None:
        self._collection = collection
        self.reached, self.release = asyncio.Event(), asyncio.Event()

    def __getattr__(self, name: str):
        return getattr(self._collection, name)

    async def insert_one(self, *args, **kwargs):
        self.reached.set()
        await self.release.wait()
        return await self._collection.insert_one(*args, **kwargs)


async def test_r22_a_delivery_stored_while_the_retention_passes_its_entry_stays_listed(counted) -> None:
    hooks = WebhookStore(counted)
    await hooks.register(_hook("mine"))
    for n in range(3):
        await hooks.add_delivery(_delivery(f"old-{n}", "mine", OLD))
    writer = WebhookStore(counted)
    held = _HeldInserts(writer.deliveries)
    writer.deliveries = held  # type: ignore[assignment]
    adding = asyncio.create_task(writer.add_delivery(_delivery("new", "mine", NOW, "pending")))
    await asyncio.wait_for(held.reached.wait(), 30)  # its entry (3) is in the log; no delivery stored there yet
    assert await _job(counted, "replica-1").run_once(NOW) == 3  # passes entry 3 too: the log's start is 4 now
    held.release.set()
    assert await adding is True
    assert await _listed(counted, "mine") == ["new"]
    assert (await hooks.delivery("new") or {})["log_entry"] == 4


async def test_r22_a_run_stopped_after_moving_the_start_is_finished_by_the_next(counted) -> None:
    hooks = WebhookStore(counted)
    await hooks.register(_hook("mine"))
    for n in range(4):
        await hooks.add_delivery(_delivery(f"old-{n}", "mine", OLD))
    await hooks.delivery_log.move_start("mine", 3)  # a replica died right after moving the start past three
    assert await _listed(counted, "mine") == ["old-3"]
    assert await _job(counted, "replica-1").run_once(NOW) == 4
    assert [await hooks.delivery(f"old-{n}") for n in range(4)] == [None] * 4
    assert await hooks.delivery_log.trimmed("mine") == (4, 4)


async def test_r22_two_replicas_running_the_retention_at_once_remove_each_delivery_once(counted) -> None:
    hooks = WebhookStore(counted)
    for hook_id in ("a", "b"):
        await hooks.register(_hook(hook_id))
        for n in range(30):
            await hooks.add_delivery(_delivery(f"{hook_id}-old-{n}", hook_id, OLD))
        await hooks.add_delivery(_delivery(f"{hook_id}-pending", hook_id, OLD, "pending"))
        await hooks.add_delivery(_delivery(f"{hook_id}-recent", hook_id, RECENT))
    before = _pruned_total()
    removed = await asyncio.gather(_job(counted, "replica-1").run_once(NOW), _job(counted, "replica-2").run_once(NOW))
    assert sum(removed) == 60 and _pruned_total() - before == 60
    # The store's side without the lease (a holder that stalled past its slot): still each removed once.
    await hooks.finish("a-pending", {"state": "delivered", "delivered_at": OLD})
    pruned = await asyncio.gather(*(prune_log(WebhookStore(counted), "a", NOW - KEPT, 100) for _ in range(2)))
    assert sum(p.removed for p in pruned) == 1
    for hook_id, kept in (("a", ["a-recent"]), ("b", ["b-recent", "b-pending"])):
        assert await _listed(counted, hook_id) == kept
    assert await hooks.delivery_log.trimmed("a") == (31, 31)


async def test_r22_replaying_a_delivery_the_retention_removed_says_why(counted) -> None:
    hooks, timers = WebhookStore(counted), TimerStore(counted)
    await hooks.register(_hook("mine"))
    await hooks.add_delivery(_delivery("gone", "mine", OLD, "failed"))
    assert await hooks.reopen(await hooks.delivery("gone") or {}, OLD)  # replayed once, and failed again since
    await hooks.finish("gone", {"state": "failed", "failed_at": OLD})
    assert await _job(counted, "replica-1").run_once(NOW) == 1
    assert await hooks.replays.find_one({"_id": "gone:1"}) is None  # its replay's claim went with it
    said = await replay(hooks, timers, "gone", NOW, failed_at=OLD, kept=KEPT)
    assert said.startswith("skipped gone: removed by the delivery retention")
    assert "30 days" in said and "XUEJI_WEBHOOK_DELIVERIES_KEPT_DAYS" in said
    assert await replay(hooks, timers, "never", NOW, failed_at=RECENT, kept=KEPT) == "skipped never: not stored"


def _note(notification_id: str, created_at: datetime) -> Notification:
    return Notification(
        notification_id=notification_id, kind=Kind.STAGE_WARNING, severity=Severity.WARNING, jurisdiction=COUNTY,
        title_zh="预警", title_en="warning", subject_id="case-1", created_at=created_at,
        source_message_id=f"m-{notification_id}", correlation_id="c-1", details={},
    )  # fmt: skip


async def test_r22_a_notification_read_again_after_its_delivery_was_removed_is_not_sent_again(counted) -> None:
    """A replay of notify's group from the earliest offset (docs/operations.md, "Replaying a projection";
    `student.status.v1` is kept forever) hands every notification to the webhooks again. Its delivery id is derived,
    so a stored delivery made it a no-op; one the retention removed would have been stored and sent anew."""
    hooks = WebhookStore(counted)
    await hooks.register(_hook("mine"))
    deliverer = WebhookDeliverer(NotifySettings(province="35"), hooks, TimerStore(counted), None, None)  # type: ignore[arg-type]
    now = datetime.now(UTC)
    await deliverer.schedule(_note("long-ago", now - KEPT - timedelta(days=1)))
    await deliverer.schedule(_note("lately", now - KEPT + timedelta(days=1)))
    assert [d["notification_id"] for d in await WebhookStore(counted).deliveries_of("mine", 10)] == ["lately"]

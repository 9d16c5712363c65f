"""The delivery retention's store side: a hook's deliveries that ended before a cutoff, removed with their entries
from the front of its log (`webhook_delivery_log`, a trimmed store.ledger), every read and delete by `_id`.

A run walks the hook's log from its start, the oldest kept entry, and passes every entry up to the first that names
a delivery still kept (pending, or ended after the cutoff: domain.webhooks.expired) or the end of the log. Passed are
entries naming an expired delivery, a delivery listed at another entry (a repeat), or none (gone already, or being
stored right now). It then moves the log's start past them (readers no longer see them) and only after removes them:
each expired delivery by `_id`, then its entry. A delivery that was being stored when its entry was passed is read
again after the start moved; its writer asks after storing whether its entry is still kept (WebhookStore.add_delivery):
of the two, at least one sees the other and lists it again at the end, so no kept delivery falls out of its log.
The log remembers how far the removal got (`cleared`): a run stopped between moving the start and removing finishes
the removal first. Each step is safe to repeat, and two runs at once remove each delivery once (counted by the
store's `deleted_count`) and at worst list one being stored twice (a repeat, which readers skip).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

from xueji_kit.store import Document
from xueji_notify.domain.webhooks import expired
from xueji_notify.store.webhooks import WebhookStore

CHUNK = 100  # entries read (and their deliveries) in one round of concurrent reads by `_id`, at most
FIRST_CHUNK = 8  # the first round's: a log with nothing to remove costs a few reads, doubling while all go


@dataclass
class Pruned:
    removed: int = 0  # deliveries removed
    read: int = 0  # log entries read: the run's work, bounded by its budget
    more: bool = False  # stopped by the budget, not at a kept delivery or the log's end


@dataclass(frozen=True)
class _Entry:
    n: int
    delivery_id: str
    delivery: Document | None


def _own(delivery: Document, n: int) -> bool:
    """Entry n is the one that lists `delivery` (not a repeat); one stored before the log has no `log_entry`."""
    return int(delivery.get("log_entry", n)) == n


async def prune_log(store: WebhookStore, webhook_id: str, cutoff: datetime, budget: int) -> Pruned:
    """Remove the hook's deliveries that ended before `cutoff` from the front of its log, reading at most about
    `budget` entries."""
    log, pruned = store.delivery_log, Pruned()
    start, cleared = await log.trimmed(webhook_id)
    if cleared < start:  # a run stopped after moving the start: what it passed is removed first
        pruned.read += start - cleared
        for at in range(cleared, start, CHUNK):
            await _remove(store, webhook_id, await _read(store, webhook_id, at, min(at + CHUNK, start)), cutoff, pruned)
        await log.cleared(webhook_id, start)
    passed: list[_Entry] = []
    n, kept, size = start, False, FIRST_CHUNK
    while not kept:
        if pruned.read >= budget:
            pruned.more = True
            break
        chunk = await _read(store, webhook_id, n, n + min(size, budget - pruned.read))
        size = min(size * 2, CHUNK)
        pruned.read += len(chunk)
        for entry in chunk:
            delivery = entry.delivery
            if entry.delivery_id == "" or (delivery and _own(delivery, entry.n) and not expired(delivery, cutoff)):
                kept = True  # the log's end, or the first delivery kept
                break
            passed.append(entry)
        n += len(chunk)
    if passed:
        to = passed[-1].n + 1
        await log.move_start(webhook_id, to)
        await _remove(store, webhook_id, passed, cutoff, pruned)
        await log.cleared(webhook_id, to)
    return pruned


async def _read(store: WebhookStore, webhook_id: str, start: int, stop: int) -> list[_Entry]:
    """Entries `start` to `stop - 1` with their deliveries; a missing entry as delivery id "" (the end)."""
    entries = await store.delivery_log.entries(webhook_id, start, stop)
    deliveries = await asyncio.gather(*(store.delivery(ref) for _, ref in entries if ref is not None))
    found = iter(deliveries)
    return [_Entry(n, ref, next(found)) if ref is not None else _Entry(n, "", None) for n, ref in entries]


async def _remove(store: WebhookStore, webhook_id: str, passed: list[_Entry], cutoff: datetime, pruned: Pruned) -> None:
    for start in range(0, len(passed), CHUNK):
        removed = await asyncio.gather(
            *(_remove_one(store, webhook_id, e, cutoff) for e in passed[start : start + CHUNK])
        )
        pruned.removed += sum(removed)


async def _remove_one(store: WebhookStore, webhook_id: str, entry: _Entry, cutoff: datetime) -> int:
    """One passed entry removed, with its delivery if that expired; one stored meanwhile listed again. How many
    deliveries this removed (0 or 1)."""
    if not entry.delivery_id:
        return 0  # removed already (a run finishing another's removal)
    # Read again when there was none: a delivery stored since its entry was read (see the module's note).
    delivery = entry.delivery or await store.delivery(entry.delivery_id)
    removed = 0
    if delivery is not None and _own(delivery, entry.n):
        if not expired(delivery, cutoff):
            again = await store.delivery_log.relist(webhook_id, entry.delivery_id, entry.n)
            await store.deliveries.update_one({"_id": entry.delivery_id}, {"$set": {"log_entry": again}})
            return 0
        removed = (await store.deliveries.delete_one({"_id": entry.delivery_id})).deleted_count
        for n in range(1, int(delivery.get("replays", 0)) + 1):  # its replays' claims (WebhookStore.reopen)
            await store.replays.delete_one({"_id": f"{entry.delivery_id}:{n}"})
    await store.delivery_log.remove(webhook_id, entry.n)
    return removed

"""Offsets committed behind the work, so a consumer fetches its next batch while the last one's publishes are still
being acknowledged (issue 19: the message pipeline waited on every batch's acks and on its commit round trip).

A consumer in a group gives each handled (or dead-lettered) message to its `Committer` instead of committing at once:
`commit_after(message, acks)` from a handler that published with `no_confirm=True`, or the dead-letter middleware
for every other handled message (`settle`). The committer waits for each message's acks in consumption order and then
commits that message's own offsets (never the consumer's whole position, which may run ahead), several messages per
commit when they pile up. At least once holds: an offset is committed only after its message's effects are durable
(store writes awaited in the handler, publishes acknowledged, a dead letter written). When a publish is not
acknowledged the committer stops committing and rewinds the consumer at once to the earliest message not yet
committed: that one and every later one are consumed again (handlers are idempotent per message), without waiting for
another message to arrive (the last batch of an import would wait for the next day's). A message the handler was
still working on meanwhile is consumed again too, so its own commit is dropped (it would pass the messages rewound),
and every partition it spans is read again from it: a batch holds records of several partitions, and one not rewound
would otherwise go on past records whose acks nobody looked at. A crash or a rebalance loses at most the commits still
queued: their messages are consumed again.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections import deque
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass
from typing import Any

import structlog
from aiokafka import TopicPartition
from faststream.message import AckStatus

log = structlog.get_logger("consumer")
DEPTH = 8  # messages handled ahead of their commit: bounds the memory of acks outstanding and the redelivery
# After a rewind, a message whose offsets lie past the rewind (consumed before it, handled meanwhile) is not committed,
# until the partition's rewound message comes again; should it never come (gone from the log, the partition given to
# another consumer), for this long at most, counted from the first message handed over after the rewind: the rewound
# message cannot be fetched before the handler at work when it was rewound is done, however long that takes.
REWOUND_FOR = 60.0


@dataclass
class _Held:
    start: dict[TopicPartition, int]  # the message's earliest offset per partition (where a rewind goes)
    end: dict[TopicPartition, int]  # the offset after its last record per partition (what is committed)
    acks: asyncio.Future[Any] | None


def _span(records: Iterable[Any]) -> tuple[dict[TopicPartition, int], dict[TopicPartition, int]]:
    start: dict[TopicPartition, int] = {}
    end: dict[TopicPartition, int] = {}
    for record in records:
        tp = TopicPartition(record.topic, record.partition)
        start[tp] = min(start.get(tp, record.offset), record.offset)
        end[tp] = max(end.get(tp, 0), record.offset + 1)
    return start, end


class Committer:
    """Commits one consumer's offsets in order, each once its message's acks are in."""

    def __init__(self, consumer: Any, depth: int = DEPTH) -> None:
        self.consumer = consumer
        self.depth = depth
        self.held: deque[_Held] = deque()
        self.failed: BaseException | None = None
        self.room = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self.rewound: dict[TopicPartition, int] = {}  # partition -> the offset it was rewound to, until it comes again
        self.rewound_until: float | None = None  # loop time; None: not counting yet (no message handed over since)

    async def hold(self, records: list[Any], acks: list[Awaitable[Any]]) -> None:
        """Queue the commit of `records` behind `acks`; waits only while `depth` messages are already queued."""
        start, end = _span(records)
        if self._consumed_again(start):
            for ack in acks:  # published again when the message is: their outcome no longer matters
                asyncio.ensure_future(ack).add_done_callback(lambda f: f.cancelled() or f.exception())
            return
        if self.failed is not None:  # (a rewind that could not wait for the committer: see `_commit_in_order`)
            return self._rewind(records)
        self.held.append(_Held(start, end, asyncio.ensure_future(asyncio.gather(*acks)) if acks else None))
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self._commit_in_order(), name="Committer.commit_in_order")
        while len(self.held) > self.depth and self.failed is None:
            self.room.clear()
            await self.room.wait()

    async def _commit_in_order(self) -> None:
        offsets: dict[TopicPartition, int] = {}  # of the messages whose acks are in: one commit for them all
        while self.held or offsets:  # (messages held while the last commit was under way are taken too)
            if not self.held:
                offsets = await self._commit(offsets)
                continue
            item = self.held[0]
            if item.acks is not None:
                if not item.acks.done():
                    offsets = await self._commit(offsets)  # what is ready is not held back by a slower message
                try:
                    await item.acks
                except (Exception, asyncio.CancelledError) as exc:  # not acknowledged: nothing from here on commits
                    if isinstance(exc, asyncio.CancelledError) and _being_cancelled():
                        raise  # this task is stopped; else an ack was cancelled (commits behind left on a stop)
                    self.failed = exc
                    log.error("publish_not_acknowledged", error=str(exc) or type(exc).__name__)
                    offsets = await self._commit(offsets)
                    self.room.set()
                    if self.failed is exc:
                        self._rewind([])
                        return
                    # A message handed over meanwhile rewound it already, and what was handed over since (the rewound
                    # message again, maybe) is held with no other task to commit it: go on with those.
                    continue
            offsets.update(item.end)  # later messages hold later offsets of a partition
            self.held.popleft()
            self.room.set()

    async def _commit(self, offsets: dict[TopicPartition, int]) -> dict[TopicPartition, int]:
        if offsets:
            try:
                await self.consumer.commit(offsets)
            except Exception as exc:  # a rebalance or a stop: those messages are consumed again, nothing is lost
                log.warning("offsets_not_committed", error=str(exc) or type(exc).__name__)
        return {}

    def _consumed_again(self, start: dict[TopicPartition, int]) -> bool:
        """Whether a message handed over after a rewind lies past it: consumed before the rewind and handled meanwhile,
        so consumed again after it. A message that starts at (or before) a rewound offset is the rewound one coming
        again: from there its partition commits as before."""
        if not self.rewound:
            return False
        now = asyncio.get_running_loop().time()
        if self.rewound_until is None:
            self.rewound_until = now + REWOUND_FOR
        elif now > self.rewound_until:
            self.rewound.clear()
            return False
        past = any(tp in self.rewound and offset > self.rewound[tp] for tp, offset in start.items())
        for tp, offset in start.items():
            if past and (tp not in self.rewound or offset <= self.rewound[tp]):
                # Dropped, so read again from here: a partition the rewind did not touch would go on past this
                # message, and the rewound message itself, dropped with the rest, has to come once more.
                self._seek(tp, offset)
                self.rewound[tp] = offset
            elif tp in self.rewound and offset <= self.rewound[tp]:
                del self.rewound[tp]
        return past

    def _rewind(self, records: list[Any]) -> None:
        """Seek every partition back to its earliest message not committed (`records`' included) and start over."""
        earliest: dict[TopicPartition, int] = {}
        for item in [*self.held, _Held(*_span(records), None)]:
            for tp, offset in item.start.items():
                earliest[tp] = min(earliest.get(tp, offset), offset)
            if item.acks is not None:  # their outcome no longer matters: they are published again
                item.acks.add_done_callback(lambda f: f.cancelled() or f.exception())
        for tp, offset in earliest.items():
            earliest[tp] = min(offset, self.rewound.get(tp, offset))  # never forward of a rewind still pending
            self._seek(tp, earliest[tp])
        log.warning("consumer_rewound", partitions=len(earliest), messages=len(self.held) + len(records))
        self.rewound |= earliest
        self.rewound_until = None
        self.held.clear()
        self.failed = None

    def _seek(self, tp: TopicPartition, offset: int) -> None:
        with contextlib.suppress(Exception):  # a partition no longer assigned is its new owner's to read
            self.consumer.seek(tp, offset)


def _being_cancelled() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


_committers: weakref.WeakKeyDictionary[Any, Committer] = weakref.WeakKeyDictionary()


def _records(message: Any) -> list[Any]:
    raw = message.raw_message
    return list(raw) if isinstance(raw, tuple | list) else [raw]


def _committed_here(message: Any) -> bool:
    """A message whose offset is ours to commit: consumed in a group with commits after handling (not auto-commit)."""
    consumer = getattr(message, "consumer", None)
    return message.committed is None and isinstance(getattr(consumer, "_group_id", None), str)


async def commit_after(message: Any, acks: list[Awaitable[Any]]) -> None:
    """From a handler: the message is done once `acks` (its publishes, sent with `no_confirm=True`) are in; its
    offset is committed then, while the consumer goes on to the next message. Without a group: awaits them."""
    if not _committed_here(message):
        await asyncio.gather(*acks)
        return
    message.committed = AckStatus.ACKED  # ours now: the broker's own ack must not commit the whole position
    committer = _committers.get(message.consumer)
    if committer is None:
        committer = _committers[message.consumer] = Committer(message.consumer)
    await committer.hold(_records(message), acks)


async def settle(message: Any) -> None:
    """A handled or dead-lettered message: its offset is committed after the messages before it."""
    if _committed_here(message):
        await commit_after(message, [])

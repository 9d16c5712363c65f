"""The committer's rewinds, interleaving by interleaving (a consumer that records its commits and seeks): a message
handled while the committer rewound is never committed past a message whose acks failed, on any partition it spans,
however long its handler takes, and what is handed over while a failure is being committed is not left behind.
The same committer over the real broker: test_commits.py."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import pytest
from aiokafka import TopicPartition

from xueji_kit import commits
from xueji_kit.commits import Committer

TOPIC = "dedupe.verdict.v1"


@dataclass
class Record:
    topic: str
    partition: int
    offset: int


def records(*at: tuple[int, int]) -> list[Record]:
    """(partition, offset) pairs as one message's records (a batch spans partitions)."""
    return [Record(TOPIC, partition, offset) for partition, offset in at]


def tp(partition: int) -> TopicPartition:
    return TopicPartition(TOPIC, partition)


class Consumer:
    """What the committer uses of aiokafka's consumer: commits and seeks, kept in order."""

    def __init__(self, commit_takes: float = 0.0) -> None:
        self.commit_takes = commit_takes
        self.commits: list[dict[TopicPartition, int]] = []
        self.seeks: list[tuple[int, int]] = []

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        await asyncio.sleep(self.commit_takes)
        self.commits.append(dict(offsets))

    def seek(self, partition: TopicPartition, offset: int) -> None:
        self.seeks.append((partition.partition, offset))

    def committed(self, partition: int) -> int | None:
        found = [c[tp(partition)] for c in self.commits if tp(partition) in c]
        return found[-1] if found else None


def refused() -> asyncio.Future[Any]:
    ack: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    ack.set_exception(RuntimeError("publish not acknowledged"))
    return ack


async def settled(committer: Committer) -> None:
    for _ in range(20):
        await asyncio.sleep(0)
    if committer.task is not None:
        await committer.task


async def test_a_batch_dropped_after_a_rewind_is_read_again_on_every_partition_it_spans() -> None:
    consumer = Consumer()
    committer = Committer(consumer)
    await committer.hold(records((0, 0), (0, 1), (0, 2)), [refused()])  # partition 0 only: its commits failed
    await settled(committer)
    assert consumer.seeks == [(0, 0)]

    # The next batch was in the handler meanwhile: partition 0's next records and partition 1's first. Its acks were
    # refused too, and it is dropped: partition 1 has to be read again from 0, or the consumer goes on from 2.
    await committer.hold(records((0, 3), (0, 4), (1, 0), (1, 1)), [refused()])
    assert (1, 0) in consumer.seeks

    # Read again: partition 0 from 0, partition 1 from 0 (the batches come as the broker hands them over).
    await committer.hold(records((0, 0), (0, 1), (0, 2), (0, 3), (0, 4)), [])
    await committer.hold(records((1, 0), (1, 1), (1, 2)), [])
    await settled(committer)
    assert consumer.committed(0) == 5
    assert consumer.committed(1) == 3
    assert all(c.get(tp(1), 0) in (0, 3) for c in consumer.commits)  # never partition 1 before its records came again


async def test_a_dropped_batch_holding_the_rewound_message_itself_brings_it_once_more() -> None:
    consumer = Consumer()
    committer = Committer(consumer)
    await committer.hold(records((0, 0), (1, 5)), [refused()])
    await settled(committer)
    assert sorted(consumer.seeks) == [(0, 0), (1, 5)]
    # A batch with partition 0 past the rewind and partition 1's rewound record: dropped, so partition 1 is read again
    # from 5 and still guarded (a later partition-1 message alone must not commit past 5 before 5 comes).
    await committer.hold(records((0, 1), (1, 5), (1, 6)), [])
    await committer.hold(records((1, 7)), [])
    await settled(committer)
    assert consumer.committed(1) is None
    await committer.hold(records((0, 0), (0, 1), (1, 5), (1, 6), (1, 7)), [])
    await settled(committer)
    assert (consumer.committed(0), consumer.committed(1)) == (2, 8)


async def test_a_message_handed_over_while_a_failure_is_committed_is_committed_and_a_second_refusal_rewinds() -> None:
    consumer = Consumer(commit_takes=0.05)
    committer = Committer(consumer)
    first: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    await committer.hold(records((0, 0)), [first])
    await committer.hold(records((0, 1)), [refused()])
    first.set_result(None)
    await asyncio.sleep(0.01)  # the committer is committing message 0 on its way to the rewind
    await committer.hold(records((0, 2)), [])  # handled meanwhile: it rewinds to 1 and is dropped
    assert consumer.seeks == [(0, 1)]
    again: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    await committer.hold(records((0, 1)), [again])  # message 1 again, before that commit returned
    again.set_result(None)
    await settled(committer)
    assert consumer.committed(0) == 2  # message 1's second run is committed, with no further message sent

    # And refused once more, it rewinds at once (nothing else arrives).
    await committer.hold(records((0, 2)), [refused()])
    await settled(committer)
    assert consumer.seeks == [(0, 1), (0, 2)]


async def test_a_handler_outlasting_the_rewind_window_is_still_not_committed_past_the_rewound_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(commits, "REWOUND_FOR", 0.05)  # stands for the minute
    consumer = Consumer()
    committer = Committer(consumer)
    await committer.hold(records((0, 0)), [refused()])
    await settled(committer)
    assert consumer.seeks == [(0, 0)]
    await asyncio.sleep(0.1)  # message 1's handler, at work since before the rewind, outlasts the window
    await committer.hold(records((0, 1)), [])
    await settled(committer)
    assert consumer.committed(0) is None  # message 0 has not come again yet
    await committer.hold(records((0, 0)), [])
    await committer.hold(records((0, 1)), [])
    await settled(committer)
    assert consumer.committed(0) == 2


async def test_the_rewind_window_still_ends_when_the_rewound_message_never_comes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(commits, "REWOUND_FOR", 0.05)
    consumer = Consumer()
    committer = Committer(consumer)
    await committer.hold(records((0, 0)), [refused()])
    await settled(committer)
    await committer.hold(records((0, 3)), [])  # the first message after the rewind starts the window: dropped
    await asyncio.sleep(0.1)  # offset 0 left the log: the consumer starts past it, and nothing brings it back
    await committer.hold(records((0, 4)), [])
    await settled(committer)
    assert consumer.committed(0) == 5


async def test_an_ack_cancelled_by_a_stop_rewinds_and_does_not_stop_the_committer() -> None:
    """A stop leaves the commits behind a batch after a while and cancels their future: the batch was not stored, so
    the consumer is rewound to it, and the messages after it are still committed when they come again."""
    consumer = Consumer()
    committer = Committer(consumer)
    left: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    await committer.hold(records((0, 0)), [left])
    left.cancel()
    await settled(committer)
    assert consumer.seeks == [(0, 0)]
    assert committer.task is not None and not committer.task.cancelled()
    await committer.hold(records((0, 0)), [])
    await committer.hold(records((0, 1)), [])
    await settled(committer)
    assert consumer.committed(0) == 2

"""A class's commits and follow-ups (register, R02 timers, R54 rosters) run behind the batch that decided its records,
one batch's commits and one batch's follow-ups at a time, a batch's commits beside the follow-ups of the batch before
it; a failure leaves them to the relay's follower and never keeps it waiting (issue 19)."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from xueji_registry.followed import Following, FollowUpsBehind


def _busy(following: Following, student: str) -> contextlib.ExitStack:
    stack = contextlib.ExitStack()
    stack.enter_context(following.at_once([(student, 1)]))
    return stack


async def test_follow_ups_run_behind_the_caller_and_the_relays_follower_waits_for_them():
    following, behind = Following(), FollowUpsBehind()
    release, done = asyncio.Event(), []

    async def follow_ups() -> None:
        await release.wait()
        done.append("stu_1")

    await behind.start(follow_ups, _busy(following, "stu_1"))  # returns at once
    waiting = asyncio.create_task(following.finished(["stu_1@0000000001"]))
    await asyncio.sleep(0.01)
    assert not waiting.done(), "the relay's follower waits while the follow-ups run"
    release.set()
    await behind.finished()
    await asyncio.wait_for(waiting, 1)
    assert done == ["stu_1"]


async def test_one_batchs_follow_ups_at_a_time_in_order():
    following, behind = Following(), FollowUpsBehind()
    order: list[str] = []

    def follow(name: str, pause: float):
        async def follow_ups() -> None:
            order.append(f"{name} begins")
            await asyncio.sleep(pause)
            order.append(f"{name} ends")

        return follow_ups

    await behind.start(follow("first", 0.05), _busy(following, "stu_1"))
    await behind.start(follow("second", 0), _busy(following, "stu_2"))  # waits for the first
    await behind.finished()
    assert order == ["first begins", "first ends", "second begins", "second ends"]


async def test_a_failure_is_left_to_the_relay_and_releases_its_commits():
    following, behind = Following(), FollowUpsBehind()

    async def failing() -> None:
        raise RuntimeError("store gone")

    await behind.start(failing, _busy(following, "stu_1"))
    await behind.finished()  # not raised: the relay's follower does them from the commits
    await asyncio.wait_for(following.finished(["stu_1@0000000001"]), 1)


async def test_cancelled_while_waiting_for_the_batches_before_it_releases_its_commits():
    following, behind = Following(), FollowUpsBehind()
    forever = asyncio.Event()

    async def stuck() -> None:
        await forever.wait()

    await behind.start(stuck, _busy(following, "stu_1"))
    await behind.start(stuck, _busy(following, "stu_2"))  # its follow-ups wait for the first's
    third = asyncio.create_task(behind.start(stuck, _busy(following, "stu_3")))  # two batches behind: it waits
    await asyncio.sleep(0.01)
    third.cancel()
    with pytest.raises(asyncio.CancelledError):
        await third
    await asyncio.wait_for(following.finished(["stu_3@0000000001"]), 1)  # never ran: nothing to wait for
    first = asyncio.create_task(following.finished(["stu_1@0000000001"]))
    await asyncio.sleep(0.01)
    assert not first.done(), "the batch before it still runs its follow-ups"
    forever.set()
    await behind.finished()
    await asyncio.wait_for(first, 1)
    await asyncio.wait_for(following.finished(["stu_2@0000000001"]), 1)


async def test_a_batchs_commits_run_while_the_batch_before_it_follows_up():
    """The store's chain behind the handler was one batch's commits and then its follow-ups, the next batch's
    commits after both: in a bulk import's last stretch that chain, not the handler, set the pace."""
    following, behind = Following(), FollowUpsBehind()
    release, order = asyncio.Event(), []

    def step(name: str, gate: asyncio.Event | None = None):
        async def run() -> None:
            if gate is not None:
                await gate.wait()
            order.append(name)

        return run

    first = await behind.start(step("1 follow-ups", release), _busy(following, "stu_1"), step("1 commits"))
    await asyncio.wait_for(first, 1)
    second = await asyncio.wait_for(behind.start(step("2 follow-ups"), _busy(following, "stu_2"), step("2 commits")), 1)
    await asyncio.wait_for(second, 1)  # stored while the first batch still follows up
    assert order == ["1 commits", "2 commits"]
    third = asyncio.create_task(behind.start(step("3 follow-ups"), _busy(following, "stu_3"), step("3 commits")))
    await asyncio.sleep(0.01)
    assert not third.done(), "at most two batches behind the handler: one committing, one following up"
    release.set()
    await asyncio.wait_for(await asyncio.wait_for(third, 1), 1)
    await behind.finished()
    assert order[:3] == ["1 commits", "2 commits", "1 follow-ups"]
    assert order.index("2 follow-ups") < order.index("3 follow-ups") > order.index("3 commits"), order


async def test_commits_run_behind_the_caller_before_the_follow_ups_and_the_future_is_their_outcome():
    following, behind = Following(), FollowUpsBehind()
    release, order = asyncio.Event(), []

    async def commits() -> None:
        await release.wait()
        order.append("commits")

    async def follow_ups() -> None:
        order.append("follow-ups")

    committed = await behind.start(follow_ups, _busy(following, "stu_1"), commits)  # returns at once
    await asyncio.sleep(0.01)
    assert not committed.done() and order == [], "the batch's offsets wait for its records"
    release.set()
    await asyncio.wait_for(committed, 1)
    await behind.finished()
    assert order == ["commits", "follow-ups"]


async def test_failed_commits_fail_the_future_skip_the_follow_ups_and_the_next_batches_commit_in_line():
    following, behind = Following(), FollowUpsBehind()
    followed = []

    async def failing() -> None:
        raise ValueError("a record the store refuses")

    async def follow_ups() -> None:
        followed.append("stu_1")

    assert behind.commits_behind()
    committed = await behind.start(follow_ups, _busy(following, "stu_1"), failing)
    with pytest.raises(ValueError, match="refuses"):
        await committed  # the committer rewinds the consumer: the batch comes again
    await behind.finished()
    assert followed == [], "no follow-ups for records that were not stored"
    await asyncio.wait_for(following.finished(["stu_1@0000000001"]), 1)  # nothing left to wait for
    # In line for the batches that bring it again, so a failure that is not an outage reaches the batch handler.
    in_line = [behind.commits_behind() for _ in range(FollowUpsBehind.IN_LINE_AFTER_FAILURE + 1)]
    assert in_line == [False] * FollowUpsBehind.IN_LINE_AFTER_FAILURE + [True]


async def test_commits_behind_wait_out_a_store_outage(monkeypatch: pytest.MonkeyPatch):
    from pymongo.errors import AutoReconnect

    monkeypatch.setattr(FollowUpsBehind, "BACKOFF", 0.001)
    following, behind = Following(), FollowUpsBehind()
    attempts = []

    async def commits() -> None:
        attempts.append(1)
        if len(attempts) < 3:
            raise AutoReconnect("store gone")

    async def nothing() -> None:
        return None

    committed = await behind.start(nothing, _busy(following, "stu_1"), commits)
    await asyncio.wait_for(committed, 1)
    assert len(attempts) == 3
    assert behind.commits_behind(), "an outage waited out is no failure"


async def test_a_stop_waits_for_commits_behind_a_while_then_leaves_them_to_a_redelivery(
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setattr(FollowUpsBehind, "STOP_PATIENCE", 0.05)
    following, behind = Following(), FollowUpsBehind()
    forever = asyncio.Event()

    async def stuck() -> None:
        await forever.wait()

    async def nothing() -> None:
        return None

    committed = await behind.start(nothing, _busy(following, "stu_1"), stuck)
    await asyncio.wait_for(behind.stop(), 1)
    assert committed.cancelled(), "never committed: its offsets stay where they were"
    await asyncio.wait_for(following.finished(["stu_1@0000000001"]), 1)

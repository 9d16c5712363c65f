"""A class's follow-ups (register, R02 timers, R54 rosters) run behind the batch that committed its records, one
batch's at a time; a failure leaves them to the relay's follower and never keeps it waiting (issue 19)."""

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


async def test_cancelled_while_waiting_for_the_batch_before_it_releases_its_commits():
    following, behind = Following(), FollowUpsBehind()
    forever = asyncio.Event()

    async def stuck() -> None:
        await forever.wait()

    await behind.start(stuck, _busy(following, "stu_1"))
    second = asyncio.create_task(behind.start(stuck, _busy(following, "stu_2")))
    await asyncio.sleep(0.01)
    second.cancel()
    with pytest.raises(asyncio.CancelledError):
        await second
    await asyncio.wait_for(following.finished(["stu_2@0000000001"]), 1)  # never ran: nothing to wait for
    first = asyncio.create_task(following.finished(["stu_1@0000000001"]))
    await asyncio.sleep(0.01)
    assert not first.done(), "the batch before it still runs its follow-ups"
    forever.set()
    await behind.finished()
    await asyncio.wait_for(first, 1)

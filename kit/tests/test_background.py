"""A background job's loop: a failed turn is logged and the job goes on; the pause is the job's own; only
cancellation ends it."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from xueji_kit.background import keep_running


class Log:
    def __init__(self) -> None:
        self.warnings: list[tuple[str, dict[str, Any]]] = []

    def warning(self, event: str, **fields: Any) -> None:
        self.warnings.append((event, fields))


async def test_a_failed_turn_is_logged_and_the_job_goes_on_until_cancelled():
    turns: list[int] = []
    done = asyncio.Event()

    async def turn() -> None:
        turns.append(1)
        if len(turns) == 2:
            raise RuntimeError("store away")
        if len(turns) == 4:
            done.set()

    log = Log()
    job = asyncio.create_task(keep_running(turn, every=0.001, log=log, failed="job_failed"))
    await asyncio.wait_for(done.wait(), 5)
    job.cancel()
    with pytest.raises(asyncio.CancelledError):
        await job
    assert log.warnings == [("job_failed", {"error": "store away"})]


async def test_the_pause_after_each_turn_is_asked_of_the_job():
    pauses: list[float] = []

    def pause() -> float:
        pauses.append(0.001)
        if len(pauses) == 3:
            raise asyncio.CancelledError  # stop the loop from inside, after three turns
        return 0.001

    async def turn() -> None:
        return None

    with pytest.raises(asyncio.CancelledError):
        await keep_running(turn, every=pause, log=Log(), failed="job_failed")
    assert len(pauses) == 3

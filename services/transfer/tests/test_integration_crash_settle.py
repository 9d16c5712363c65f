"""A crash between a decision's commit and its settle (issue 15, found by the transfer crash-under-load test): the
client retries with the same Idempotency-Key, and the retry must end the timers the stored decision closed, not only
arm and file what the case needs now. Before the fix the closed stage's warning and breach timers stayed armed."""

from __future__ import annotations

import contextlib
import functools
from datetime import date
from typing import Any

import pytest
from transfer_driver import RECEIVING, Clock, Driver, day, start

from xueji_kit.aggregates import StreamCache
from xueji_transfer import consistency
from xueji_transfer.app import create_app
from xueji_transfer.settings import TransferSettings

pytestmark = pytest.mark.integration


async def test_a_stage_decision_retried_after_a_crash_before_settling_cancels_the_stage_timers(start_app, token):
    t = await start(start_app, token, day(date(2025, 3, 10)))
    tid = await t.apply()
    await t.examine(tid)
    service = t.app.state.transfer
    assert {tm.data["stage"] for tm in await t.app.state.timers.store.armed_for(tid)} == {"receiving_school"}

    settle = service.settle

    async def decide():
        path, body = f"/v1/transfers/{tid}/stages/receiving_school/decision", {"decision": "approve"}
        return await t.call("POST", path, t.party("receiving_school"), body, headers={"Idempotency-Key": "decide-1"})

    async def killed(*args, **kwargs):
        raise RuntimeError("killed between the commit and its settle")

    service.settle = killed
    with contextlib.suppress(RuntimeError):
        await decide()
    service.settle, service.streams = settle, StreamCache()  # the restarted process: nothing in memory
    stored = (await t.detail(tid))["case"]["stages"]["receiving_school"]["status"]
    assert stored == "approved"  # the decision was committed before the crash

    answer = await decide()
    assert answer.status_code == 200, answer.text
    stages = {tm.data["stage"] for tm in await t.app.state.timers.store.armed_for(tid)}
    assert stages == {"receiving_bureau"}  # the receiving school's timers ended, the bureau's armed


class Killed(Exception):
    """The process died here (kill -9): nothing after this point ran."""


async def test_a_stage_decision_cut_off_before_settling_is_settled_after_restart_without_any_retry(
    service_process: Any, token: Any, wait_for: Any
) -> None:
    """Issue 15, defect 1 in transfer: nobody retries. The restarted process follows the committed decision from its
    outbox entry: the receiving school's timers end, the bureau's are armed, the case is in the bureau's inbox."""
    transfer_process = functools.partial(service_process, create_app, TransferSettings, scheduler_enabled=False,
                                         scheduler_lookback_minutes=10)  # fmt: skip
    clock = Clock(day(date(2025, 3, 10)))
    async with transfer_process() as first:
        first.app.state.transfer.clock = clock
        t = Driver(first, token, clock)
        tid = await t.apply()
        await t.examine(tid)
        runtime = first.app.state.transfer.runtime
        await wait_for(lambda: _outbox_empty(runtime))

        async def frozen(*_: Any, **__: Any) -> int:
            return 0

        async def killed(*_: Any, **__: Any) -> None:
            raise Killed

        runtime.relay.run_once = frozen  # the process is dead: its relay publishes and follows nothing more
        first.app.state.transfer.settle = killed
        path, body = f"/v1/transfers/{tid}/stages/receiving_school/decision", {"decision": "approve"}
        with pytest.raises(Killed):
            await t.call("POST", path, t.party("receiving_school"), body, headers={"Idempotency-Key": "decide-1"})
        stored = (await t.detail(tid))["case"]["stages"]["receiving_school"]["status"]
        assert stored == "approved"  # committed before the crash
        armed = {tm.data["stage"] for tm in await first.app.state.timers.store.armed_for(tid)}
        assert armed == {"receiving_school"}  # nothing settled
        # The consistency checker names both gaps: the bureau not asked in its inbox, the closed stage's timers.
        found = {(d.projection, d.subject) for d in await consistency.differences(runtime.events, "35", [tid])}
        assert found == {("inbox", tid), ("stage_timers", tid)}

    async with transfer_process() as restarted:
        restarted.app.state.transfer.clock = clock  # no request comes: only the relay's follower can settle
        store, cases = restarted.app.state.timers.store, restarted.app.state.transfer.filings

        async def settled() -> bool:
            stages = {tm.data["stage"] for tm in await store.armed_for(tid)}
            filed = await cases.collection.find_one({"_id": f"{RECEIVING[:6]}:{tid}"})
            return stages == {"receiving_bureau"} and filed is not None

        await wait_for(settled, timeout=45)
        assert await consistency.differences(restarted.app.state.transfer.runtime.events, "35", [tid]) == []


async def _outbox_empty(runtime: Any) -> bool:
    return await runtime.events.outbox.find_one({}) is None

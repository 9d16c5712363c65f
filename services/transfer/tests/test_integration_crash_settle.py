"""A crash between a decision's commit and its settle (issue 15, found by the transfer crash-under-load test): the
client retries with the same Idempotency-Key, and the retry must end the timers the stored decision closed, not only
arm and file what the case needs now. Before the fix the closed stage's warning and breach timers stayed armed."""

from __future__ import annotations

import contextlib
from datetime import date

import pytest
from transfer_driver import day, start

from xueji_kit.aggregates import StreamCache

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

"""Store commands per step of a transfer on the real store, pinned (issue 19): a step that starts reading, scanning or
writing more fails here. Counted with pymongo's command monitoring (xueji_kit.store_commands).

A step decides on the case as this replica last stored it (nothing read; an application reads the student's record)
and writes: its commit, its outbox entry when it publishes, the case filed under a jurisdiction it newly asks
something of, and one insert per minute its timers are armed or ended in (a stage's warning and breach each fall in a
minute of their own). No command scans: each selects by `_id` equality, or is an insert.
"""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

import pytest
from transfer_driver import RECEIVING, STAGES, application, day, evidence, start

from xueji_kit import store_commands
from xueji_kit.store_commands import counting, scans, scope, tally

pytestmark = pytest.mark.integration
MONDAY = day(date(2025, 3, 10))

COMMIT, OUTBOX, FILED, TIMERS = "insert events", "insert events_outbox", "insert cases", "insert timers_m<minute>"
PINNED = {
    # The student's record (R28): its stream's one commit and the miss after it; the case number: the first free one
    # looked up, taken, and claimed for the case; the receiving school's stage timers.
    "apply": {
        "find student_records": 2,
        "find case_numbers": 1,
        "insert case_numbers": 2,
        COMMIT: 1,
        OUTBOX: 1,
        FILED: 1,
        TIMERS: 2,
    },
    "examine": {COMMIT: 1},
    # One stage's timers ended, the next's armed; the student's record asked again before initiating (R28).
    "receiving_school": {"find student_records": 2, COMMIT: 1, OUTBOX: 1, FILED: 1, TIMERS: 2},
    "receiving_bureau": {COMMIT: 1, OUTBOX: 1, FILED: 1, TIMERS: 3},  # and the sending school's R32 paper-file timer
    # The sending side and the report ask the record again: another case may have moved the student (R21, R28).
    "sending_school": {"find student_records": 2, COMMIT: 1, OUTBOX: 1, FILED: 1, TIMERS: 2},
    "sending_bureau": {"find student_records": 2, COMMIT: 1, OUTBOX: 1, FILED: 1, TIMERS: 3},
    "notify": {COMMIT: 1},
    "report": {"find student_records": 2, COMMIT: 1, OUTBOX: 1, FILED: 1, TIMERS: 1},
}


async def _drive(driver: Any, log: store_commands.CommandLog) -> dict[str, list[store_commands.Command]]:
    steps: dict[str, list[store_commands.Command]] = {}
    await driver.known()  # the registry's record, as student.status.v1 leaves it (a consumer's work, not the step's)
    with scope("apply"):
        tid = await driver.apply(record=False)
    steps["apply"] = log.take("apply")
    with scope("examine"):
        await driver.examine(tid)
    steps["examine"] = log.take("examine")
    for stage in STAGES:
        with scope(stage):
            await driver.approve(tid, stage)
        steps[stage] = log.take(stage)
    with scope("notify"):
        await driver.ok("POST", f"/v1/transfers/{tid}/notify-to-report", ("school", RECEIVING))
    steps["notify"] = log.take("notify")
    with scope("report"):
        report = {"electronic_file": evidence("electronic_file")}
        case = await driver.ok("POST", f"/v1/transfers/{tid}/report", ("school", RECEIVING), report)
    steps["report"] = log.take("report")
    assert case["phase"] == "completed"
    return steps


async def test_each_step_of_a_transfer_sends_its_pinned_store_commands_and_none_scans(
    start_app, token, isolation, wait_for
):
    store_commands.install()  # before the service's client is made
    with counting(f"{isolation.database}_TransferSettings") as log:
        driver = await start(start_app, token, MONDAY)
        # Once its relay holds the lease, the replica confirms its commits to it in memory (until then, in the store).
        await wait_for(lambda: driver.app.state.runtime.events.relayed_here)
        log.clear()
        steps = await _drive(driver, log)
        # The relay publishes what the steps stored: it reads and deletes outbox entries and nothing else (it is
        # told of the commits this replica stored, so it neither reads nor writes confirmations).
        relay = [c for c in log.commands if c.scope == "OutboxRelay.run_forever"]
    assert {name: tally(commands) for name, commands in steps.items()} == PINNED
    assert {name: scans(commands) for name, commands in steps.items() if scans(commands)} == {}
    assert {f"{c.kind} {c.collection}" for c in relay} <= {"find events_outbox", "delete events_outbox",
                                                           "insert leases", "find leases"}  # fmt: skip


async def test_a_replica_deciding_on_a_case_another_replica_moved_on_reloads_it_and_decides_right(start_app, token):
    first = await start(start_app, token, MONDAY)
    second = await start(start_app, token, MONDAY)  # the same store: another replica of the service
    tid = await first.apply()
    await second.examine(tid)  # `first` still holds the case as applied for
    await first.approve(tid, "receiving_school")  # its commit conflicts, the case is reloaded and decided again
    detail = await second.detail(tid)
    assert [e["type"] for e in detail["history"]][:3] == ["transfer_applied", "stage_opened", "conditions_examined"]
    assert detail["case"]["stages"]["receiving_school"]["status"] == "approved"
    assert [v["version"] for v in detail["history"]] == sorted(v["version"] for v in detail["history"])


async def test_concurrent_applications_take_consecutive_case_numbers_without_racing_for_them(
    start_app, token, isolation, wait_for
):
    """Concurrent applications in one replica each take the next case number (none is tried twice), and their
    inserts into one collection are grouped: fewer commands than documents."""
    store_commands.install()
    with counting(f"{isolation.database}_TransferSettings") as log:
        driver = await start(start_app, token, MONDAY)
        await wait_for(lambda: driver.app.state.runtime.events.relayed_here)
        for n in range(8):
            await driver.known(f"stu_group_{n}")
        log.clear()

        async def apply(n: int) -> str:
            with scope("apply"):
                body = {"application": application(student_id=f"stu_group_{n}")}
                return str((await driver.ok("POST", "/v1/transfers", ("school", RECEIVING), body))["case_number"])

        numbers = await asyncio.gather(*(apply(n) for n in range(8)))
        applied = log.take("apply")
    assert sorted(numbers) == [f"ZX-350602-2025-{n:06d}" for n in range(1, 9)]
    numbered = [c for c in applied if c.kind == "insert" and c.collection == "case_numbers"]
    assert sum(c.statements for c in numbered) == 16  # each number and each case's claim once: no lost race
    commits = [c for c in applied if c.kind == "insert" and c.collection == "events"]
    assert sum(c.statements for c in commits) == 8
    assert len(commits) < 8 and len(numbered) < 16  # grouped
    assert scans(applied) == []


async def test_the_case_folded_once_per_decision_equals_a_replay_of_the_stored_documents(start_app, token):
    """Issue 19: a decision folds the case once (who may act and the decision share it, and the next decision starts
    from what this one decided) instead of replaying the stream for each question; what it keeps must be exactly
    what the stored documents replay to, after every step, refusals and a reloaded stale copy included."""
    driver = await start(start_app, token, MONDAY)
    service = driver.app.state.transfer

    async def kept_equals_stored(tid: str) -> None:
        commits = await service.history(tid)
        events, case = service.folded[tid]
        assert events == sum(len(c["events"]) for c in commits)
        assert case == await service.load(tid)

    tid = await driver.apply()
    await kept_equals_stored(tid)
    await driver.examine(tid)
    await kept_equals_stored(tid)
    for stage in STAGES:
        await driver.approve(tid, stage)
        await kept_equals_stored(tid)
    other = await start(start_app, token, MONDAY)  # another replica moves a second case on behind this one's back
    second = await driver.apply(application(student_id="stu_fold_second"))
    await other.examine(second)
    assert (await driver.decide(second, "sending_school")).status_code >= 400  # a refusal stores nothing
    await kept_equals_stored(second)
    await driver.approve(second, "receiving_school")  # decided on the stale copy: conflicts, reloads, decides again
    await kept_equals_stored(second)

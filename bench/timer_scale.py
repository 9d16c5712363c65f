"""The shared timer mechanism at scale (kit: per-minute timer store + scheduler), as every service uses it.

1. N armed timers, 1% due within the next half minute, the rest spread over the coming day: the scheduler runs on
   the wall clock as the services run it (at most 0.5 s between ticks, reading the coming minute ahead and waking
   when the next timer falls due) and every due timer's firing delay (fire time - due time) is recorded; the same
   number due among N/10 armed shows the tick's cost follows the timers due, not those armed. A third run has the
   1% due at one instant, as every deadline of a day falls at 24:00.
2. Recovery: a scheduler process is killed (SIGKILL) while timers fall due; a new one is started and the time from
   its start to the first late timer fired, and to all of them, is measured.

The fire function records the firing (an insert); what a service then does (a transfer's warning, a registry
deadline) is measured by the service benchmarks.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import AsyncMongoClient

from bench.result_file import save_result
from bench.servers import ROOT, bench_servers
from xueji_kit.timers import PREFIX, Timer, TimerScheduler, TimerStore, minute_of

WORKER = """
import asyncio, sys
from datetime import UTC, datetime, timedelta
from pymongo import AsyncMongoClient
from xueji_kit.timers import TimerScheduler, TimerStore

async def main(uri, name):
    db = AsyncMongoClient(uri, tz_aware=True)[name]
    async def fire(timer):
        await db["fired"].insert_one({"_id": timer.timer_id, "at": datetime.now(UTC), "due_at": timer.due_at})
    print("started", flush=True)
    await TimerScheduler(TimerStore(db), fire, name="bench").run_forever(timedelta(seconds=0.5))

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


async def populate(db: Any, n: int, due_in: float, due_count: int) -> list[datetime]:
    """n timers: 99% over the coming day (about n/1440 a minute, as a busy province's deadlines), written first;
    then `due_count` due between 5 s and 5 s + `due_in` from then. Returns their due times."""
    docs: dict[int, list[dict[str, Any]]] = {}
    start = datetime.now(UTC) + timedelta(minutes=5)
    for i in range(n - due_count):
        at = start + timedelta(seconds=(i * 7919) % (24 * 3600))
        docs.setdefault(minute_of(at), []).append(
            {"_id": f"t{i}", "kind": "bench", "aggregate_id": f"case{i}", "due_at": at, "data": {}}
        )
    for minute, batch in docs.items():
        await db[f"{PREFIX}{minute}"].insert_many(batch)
    now = datetime.now(UTC)
    due = [now + timedelta(seconds=5 + due_in * i / due_count) for i in range(due_count)]
    soon: dict[int, list[dict[str, Any]]] = {}
    for i, at in enumerate(due):
        soon.setdefault(minute_of(at), []).append(
            {"_id": f"due{i}", "kind": "bench", "aggregate_id": f"due{i}", "due_at": at, "data": {}}
        )
    for minute, batch in soon.items():
        await db[f"{PREFIX}{minute}"].insert_many(batch)
    return due


async def firing(mongo: str, n: int, due_in: float, due_count: int, interval: float) -> dict[str, Any]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo, tz_aware=True)
    db = client[f"bench_timers_{uuid.uuid4().hex[:8]}"]
    started = time.perf_counter()
    due_times = await populate(db, n, due_in, due_count)
    populate_s = time.perf_counter() - started
    delays: list[float] = []
    ticks: list[float] = []

    async def fire(timer: Timer) -> None:
        delays.append((datetime.now(UTC) - timer.due_at).total_seconds())

    scheduler = TimerScheduler(TimerStore(db), fire, name="bench")
    deadline = max(due_times) + timedelta(seconds=10)
    while len(delays) < len(due_times) and datetime.now(UTC) < deadline:
        tick_started = time.perf_counter()
        wait = await scheduler.step(interval)  # as run_forever: tick, read ahead, sleep until the next due
        ticks.append(time.perf_counter() - tick_started)
        await asyncio.sleep(wait)
    await client.drop_database(db.name)
    await client.close()
    delays.sort()
    return {
        "armed": n,
        "load_average_1min": round(os.getloadavg()[0], 2),  # the machine is shared: every figure carries its load
        "due": len(due_times),
        "fired": len(delays),
        "populate_s": round(populate_s, 1),
        "firing_delay_p50_s": round(delays[len(delays) // 2], 3) if delays else None,
        "firing_delay_p99_s": round(delays[int(len(delays) * 0.99) - 1], 3) if delays else None,
        "firing_delay_max_s": round(delays[-1], 3) if delays else None,
        "tick_median_s": round(statistics.median(ticks), 4) if ticks else None,
    }


async def recovery(mongo: str, due: int = 50) -> dict[str, Any]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo, tz_aware=True)
    name = f"bench_recovery_{uuid.uuid4().hex[:8]}"
    db = client[name]
    store = TimerStore(db)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(ROOT / p / "src") for p in ("kit", "contracts"))}
    worker = await asyncio.create_subprocess_exec(sys.executable, "-c", WORKER, mongo, name, env=env,
                                                  stdout=asyncio.subprocess.PIPE)  # fmt: skip
    assert worker.stdout is not None
    await worker.stdout.readline()
    await asyncio.sleep(2)  # its first ticks: nothing due yet
    worker.send_signal(signal.SIGKILL)
    await worker.wait()
    now = datetime.now(UTC)
    for i in range(due):  # fall due while no scheduler runs
        await store.arm(Timer(f"late{i}", "bench", f"case{i}", now + timedelta(seconds=1 + i / due), {}))
    await asyncio.sleep(3)
    restarted = time.perf_counter()
    again = await asyncio.create_subprocess_exec(sys.executable, "-c", WORKER, mongo, name, env=env,
                                                 stdout=asyncio.subprocess.DEVNULL)  # fmt: skip
    first = last = None
    try:
        while time.perf_counter() - restarted < 60:
            fired = await db["fired"].count_documents({})
            if fired and first is None:
                first = time.perf_counter() - restarted
            if fired >= due:
                last = time.perf_counter() - restarted
                break
            await asyncio.sleep(0.1)
    finally:
        again.send_signal(signal.SIGKILL)
        await again.wait()
        await client.drop_database(name)
        await client.close()
    return {"late_timers": due, "first_fired_after_restart_s": round(first or -1, 2),
            "all_fired_after_restart_s": round(last or -1, 2), "includes": "process start and imports"}  # fmt: skip


async def main(argv: list[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="make bench (timers at scale)")
    parser.add_argument("--armed", type=int, default=1_000_000, help="N; a second run uses N/10")
    parser.add_argument("--due-within", type=float, default=30.0, help="seconds over which the 1% fall due")
    parser.add_argument("--interval", type=float, default=0.5, help="scheduler tick (the services' default)")
    args = parser.parse_args(argv)
    with bench_servers() as (_, mongo):
        due = max(1, args.armed // 100)  # 1% of the larger run, in both: the same work due, 10x the timers armed
        small = await firing(mongo, args.armed // 10, args.due_within, due, args.interval)
        large = await firing(mongo, args.armed, args.due_within, due, args.interval)
        # Every deadline of a day ends at 24:00 Beijing time: the same 1% due at one instant.
        burst = await firing(mongo, args.armed, 0.0, due, args.interval)
        restart = await recovery(mongo)
    result = {
        "benchmark": "timers_at_scale",
        "runs": [small, large],
        "burst_at_one_instant": burst,
        "tick_ratio_10x_armed": round(large["tick_median_s"] / small["tick_median_s"], 2),
        "recovery": restart,
        "targets": "firing delay p99 <= 1 s; recovery <= 5 s; tick cost flat as armed timers grow 10x",
        "measured_at": datetime.now(UTC).isoformat(),
    }
    return save_result("timers_at_scale", result)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))

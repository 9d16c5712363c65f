"""Transfer SLA timers: the cost of a scheduler tick with N open cases against 10 x N, the same number due."""

# Open cases are real ones (the domain's events, armed timers and inbox filings, written in bulk as the service
# writes them one by one); the due ones fire through the real service (load -> FireTimer -> save -> re-arm -> file).
# A tick's cost should follow the timers due, not the cases open: the ratio ~1.0. Each size gets its own database on
# the same FerretDB; each round fires a fresh group of due timers. Store time is reported per command and collection.

from __future__ import annotations

import argparse
import re
import statistics
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pymongo import monitoring

from bench.result_file import save_result
from bench.servers import bench_servers
from xueji_contracts.auth import OperatorClaims, Role
from xueji_contracts.calendar import national_calendar
from xueji_kit.commit_documents import commit_key
from xueji_kit.timers import PREFIX, minute_of
from xueji_transfer import inbox
from xueji_transfer.app import wire
from xueji_transfer.domain import ApplyForTransfer, SchoolSide, TransferApplication, armed_timers, handle, to_documents
from xueji_transfer.settings import TransferSettings

CST = ZoneInfo("Asia/Shanghai")
SCHOOL = OperatorClaims(sub="bench", role=Role.SCHOOL, code="3506020001")
FIRST_DAY = date(2025, 3, 3)  # due groups open on the first working days, the open cases after them


def _application(i: int) -> TransferApplication:
    return TransferApplication(
        student_id=f"stu_{i:08d}", status="enrolled", sending=SchoolSide(code=f"350102{i % 9000:04d}"),
        receiving=SchoolSide(code="3506020001"), grade=4, target_grade=4, reason="household_move",
    )  # fmt: skip


def _case_documents(transfer: Any, i: int, opened: datetime) -> tuple[dict, list[dict], list[dict]]:
    """What the service stores for one new case: its first commit, its armed timers, its projection."""
    rules, calendar = transfer.service.calendars.rules, transfer.service.calendars.current
    tid = f"tr_bench_{i:08d}"
    command = ApplyForTransfer(transfer_id=tid, application=_application(i), operator=SCHOOL)
    case, events = handle(None, command, opened, calendar, rules.model_copy(update={"timing": None}))
    assert case is not None
    commit = {"_id": commit_key(tid, 1), "commit_id": str(uuid.uuid4()), "aggregate_id": tid, "version": 1,
              "events": to_documents(events), "outgoing": [], "recorded_at": opened}  # fmt: skip
    timers = [
        {"_id": t.timer_id, "kind": t.kind.value, "aggregate_id": tid, "due_at": t.due_at.astimezone(UTC),
         "minute": minute_of(t.due_at), "data": {"stage": t.stage.value if t.stage else None}}
        for t in armed_timers(case, rules)
    ]  # fmt: skip
    codes = {todo["code"] for todo in inbox.todos(case, "35")}
    return commit, timers, [{"_id": f"{code}:{tid}", "code": code, "transfer_id": tid, "owner": None} for code in codes]


async def _populate(transfer: Any, first: int, count: int, opened: datetime) -> None:
    """In bulk what the service writes one by one: commits, each timer in its due minute's collection, filings."""
    db = transfer.runtime.db
    for start in range(first, first + count, 2000):
        docs = [_case_documents(transfer, i, opened) for i in range(start, min(start + 2000, first + count))]
        by_minute: dict[int, list[dict[str, Any]]] = {}
        for timer in (t for d in docs for t in d[1]):
            by_minute.setdefault(timer.pop("minute"), []).append(timer)
        await db["events"].insert_many([d[0] for d in docs])
        for minute, timers in by_minute.items():
            await db[f"{PREFIX}{minute}"].insert_many(timers)
        await db["cases"].insert_many([p for d in docs for p in d[2]])


def opened_warning(calendar: Any, opened: datetime) -> datetime:
    """When the warning of a stage opened at `opened` falls due (24:00, 2 working days before its deadline)."""
    return calendar.stage_deadline(opened, 10, 2).warn_at


async def _measure(mongo: str, bootstrap: str, open_cases: int, due: int, rounds: int) -> dict[str, Any]:
    settings = TransferSettings(
        mongodb_uri=mongo, kafka_bootstrap_servers=bootstrap, scheduler_enabled=False,
        mongodb_database=f"bench_timers_{open_cases}_{uuid.uuid4().hex[:6]}",
    )  # fmt: skip
    transfer = wire(settings)
    for hook in transfer.runtime.startup_hooks:
        await hook()
    calendar = national_calendar()
    # 3 working days apart: a group's warning (day 8) never shares a midnight with another's breach (day 10).
    days = [calendar.add_working_days(FIRST_DAY, 3 * n) for n in range(rounds + 1)]
    opened = [datetime(d.year, d.month, d.day, 9, tzinfo=CST) for d in days]
    for r in range(rounds):  # group r: `due` cases opened on day r, warned at one midnight
        await _populate(transfer, r * due, due, opened[r])
    started = time.perf_counter()
    await _populate(transfer, rounds * due, open_cases, opened[rounds])
    populate_s = time.perf_counter() - started
    ticks, empty, spent = [], [], []
    for r in range(rounds):
        warn_at = opened_warning(calendar, opened[r])
        transfer.service.clock = lambda at=warn_at: at + timedelta(seconds=30)  # the service lives at the tick's time
        for back in (3, 2, 1):  # catch up and finish a minute, so no first-start sweep falls in the measured tick
            await transfer.timers.tick(warn_at - timedelta(minutes=back))
        COMMANDS.clear()
        started = time.perf_counter()
        await transfer.timers.tick(warn_at - timedelta(seconds=30))  # nothing due: the scheduler's own cost
        empty.append(time.perf_counter() - started)
        started = time.perf_counter()
        fired = await transfer.timers.tick(warn_at + timedelta(seconds=30))
        ticks.append(time.perf_counter() - started)
        assert fired == due, f"round {r}: fired {fired}, expected {due}"
        spent.append(dict(COMMANDS))
    await transfer.runtime.mongo.drop_database(settings.database_name)
    await transfer.runtime.mongo.close()
    return {"open_cases": open_cases, "due": due, "populate_s": round(populate_s, 1),
            "tick_s": [round(t, 3) for t in ticks], "empty_tick_s": [round(t, 4) for t in empty],
            "store_ms_per_due_timer": _per_timer(spent, due)}  # fmt: skip


def _per_timer(spent: list[dict[str, float]], due: int) -> dict[str, float]:
    """Where a tick's store time goes (median over rounds), per timer fired: reads and writes by collection."""
    keys = sorted({k for s in spent for k in s})
    return {k: round(statistics.median(s.get(k, 0.0) for s in spent) / due, 2) for k in keys}


class _Timing(monitoring.CommandListener):
    """Milliseconds the store spent per command and collection (`find events`, `insert timer_claims`, ...)."""

    def __init__(self) -> None:
        self._started: dict[int, str] = {}

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self._started[event.request_id] = f"{event.command_name} {event.command.get(event.command_name)}"

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        key = self._started.pop(event.request_id, None)
        if key is not None:
            key = re.sub(r"timers_m\d+", "timers_m<minute>", key)
            COMMANDS[key] = COMMANDS.get(key, 0.0) + event.duration_micros / 1000

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        self.succeeded(event)  # type: ignore[arg-type]


COMMANDS: dict[str, float] = {}
monitoring.register(_Timing())


async def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="make bench (transfer timers)")
    parser.add_argument("--open-cases", type=int, default=1000, help="N; the second run has 10 x N")
    parser.add_argument("--due", type=int, default=30, help="timers due in each measured tick")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    with bench_servers() as (bootstrap, mongo):
        small = await _measure(mongo, bootstrap, args.open_cases, args.due, args.rounds)
        large = await _measure(mongo, bootstrap, 10 * args.open_cases, args.due, args.rounds)
    tick_small, tick_large = statistics.median(small["tick_s"]), statistics.median(large["tick_s"])
    empty_small, empty_large = statistics.median(small["empty_tick_s"]), statistics.median(large["empty_tick_s"])
    stream = {run["open_cases"]: run["store_ms_per_due_timer"].get("find events", 0.0) for run in (small, large)}
    rest = {run["open_cases"]: sum(v for k, v in run["store_ms_per_due_timer"].items() if k != "find events")
            for run in (small, large)}  # fmt: skip
    result = {
        "benchmark": "transfer_timer_tick",
        "store_ms_per_due_timer_ratio_10x": {
            "case stream loads (kit EventStore, find events)": round(
                stream[large["open_cases"]] / stream[small["open_cases"]], 2
            ),
            "everything else (timers, claims, commits, outbox)": round(
                rest[large["open_cases"]] / rest[small["open_cases"]], 2
            ),
        },
        "runs": [small, large],
        "tick_ratio_10x_open_cases": round(tick_large / tick_small, 2),
        "empty_tick_ratio_10x_open_cases": round(empty_large / empty_small, 2),
        "per_due_timer_ms": {
            "N": round(1000 * tick_small / args.due, 2),
            "10N": round(1000 * tick_large / args.due, 2),
        },
        "target_ratio": "~1.0 (cost follows timers due, not cases open)",
        "measured_at": datetime.now(UTC).isoformat(),
    }
    save_result("transfer_timers", result)

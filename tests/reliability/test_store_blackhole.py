"""A silent store (gray failure): the path to the store drops everything while the connections stay open (a firewall
that lost its state, a hung VM, a store stalled on a full disk). Nothing is refused or reset, nothing answers.
Every service still answers each request within a bound (503 with Retry-After, never a hang), is not ready while the
store is silent, and answers again without help once the path is back, though the connections it had stay silent
for good (only new ones work). Under load (the registry and transfer started as `make run` starts them, the drive of
test_store_outage_under_load.py) nothing is lost or duplicated; a slow path (300 ms more per round trip) is slower,
never refused."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import AsyncIterator, Awaitable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import chaos
from faults import CuttableProxy
from test_store_outage import every_service_answering
from test_store_outage_under_load import ENROLLMENTS, under_load_across

from xueji_kit.settings import ServiceSettings
from xueji_kit.store import connect
from xueji_kit.timers import Timer, TimerScheduler, TimerStore, plain_id

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]
# The longest a request may take while the store is silent, then 503 with Retry-After: by default the driver's
# monitor takes the store for away within a heartbeat (10 s) and XUEJI_MONGODB_CONNECT_TIMEOUT_SECONDS (10), which
# fails the operations waiting on it (before: 33-36 s); with XUEJI_MONGODB_TIMEOUT_SECONDS set, within that.
BOUNDS = {None: 32.0, 5.0: 10.0}
READY_BOUND_S = 10.0  # readiness pings with its own short deadline


@pytest.fixture
async def store_path(isolation: Any) -> AsyncIterator[CuttableProxy]:
    """The path from the services to the test's store, a proxy a test can blackhole. Requested before `start_app`,
    so the services stop (over a working path) before it closes."""
    proxy = await CuttableProxy(isolation.servers.mongodb).start()
    yield proxy
    await proxy.stop()


def services_client(path: CuttableProxy) -> Any:
    """A store client through `path` with the timeouts a service has by default (ServiceRuntime's)."""
    settings = ServiceSettings(mongodb_uri=f"mongodb://{path.address}/")
    return connect(settings.mongodb_uri, timeout=settings.mongodb_timeout_seconds,
                   connect_timeout=settings.mongodb_connect_timeout_seconds,
                   socket_timeout=settings.mongodb_socket_timeout_seconds)  # fmt: skip


async def timed(request: Awaitable[Any]) -> tuple[float, Any]:
    """(seconds, the answer), or (seconds, None) for none within a minute."""
    started = time.monotonic()
    try:
        answer = await asyncio.wait_for(request, timeout=60)
    except TimeoutError:
        answer = None
    return time.monotonic() - started, answer


@pytest.mark.parametrize("operation_timeout", [None, 5.0], ids=["defaults", "operation_timeout_5s"])
async def test_a_silent_store_gets_503_within_a_bound_and_the_services_recover_on_their_own(
    store_path: CuttableProxy, start_app: Any, token: Any, operation_timeout: float | None
) -> None:
    bound = BOUNDS[operation_timeout]
    clients = await every_service_answering(start_app, token, store_path, mongodb_timeout_seconds=operation_timeout)
    await store_path.blackhole(lose_state=True)
    answers = await asyncio.gather(*(timed(c.get(p, headers=a)) for c, p, a in clients))
    readiness = await asyncio.gather(*(timed(c.get("/readyz")) for c, _, _ in clients))
    await store_path.restore()
    restored = time.monotonic()
    back = [await timed(client.get(path, headers=auth)) for client, path, auth in clients]
    ready = [await timed(client.get("/readyz")) for client, _, _ in clients]
    recovery = time.monotonic() - restored

    names = [client.app.title for client, _, _ in clients]
    chaos.record("store_blackhole" if operation_timeout is None else "store_blackhole_operation_timeout", requests=len(answers) * 4, kills=1, lost=0, duplicated=0, projection_differences=0,
                 http_5xx=sum(a is None or a.status_code >= 500 for _, a in back + ready), recovery_s=recovery)  # fmt: skip
    took = {name: (round(s, 1), round(r, 1)) for name, (s, _), (r, _) in zip(names, answers, readiness, strict=True)}
    assert max(s for s, _ in answers) <= bound and max(s for s, _ in readiness) <= READY_BOUND_S, took  # no hang
    for name, (_, answer), (_, ready_answer) in zip(names, answers, readiness, strict=True):
        assert answer is not None and answer.status_code == 503, (name, answer and answer.text)
        assert int(answer.headers["retry-after"]) > 0, name
        assert "store" in answer.json()["detail"], name
        assert ready_answer.status_code == 503 and ready_answer.json()["checks"]["mongodb"] is False, name
    assert all(s <= bound and a is not None and a.status_code in {200, 404} for s, a in back), back
    assert all(s <= bound and a is not None and a.status_code == 200 for s, a in ready), ready


class Silenced:
    """The path to the store blackholed, then working again for new connections only (a firewall that lost its
    state: the old ones stay silent for good)."""

    def __init__(self, path: CuttableProxy) -> None:
        self.path = path

    async def down(self) -> None:
        await self.path.blackhole(lose_state=True)

    async def up(self) -> None:
        await self.path.restore()


class Slowed:
    """The path to the store slow: every chunk held `milliseconds` each way while the fault lasts."""

    def __init__(self, path: CuttableProxy, milliseconds: float) -> None:
        self.path, self.milliseconds = path, milliseconds

    async def down(self) -> None:
        self.path.delay(self.milliseconds)

    async def up(self) -> None:
        self.path.delay(0)


async def test_a_store_silent_for_20_s_under_enrollments_and_transfers_answers_in_time_and_loses_nothing(
    store_path: CuttableProxy, isolation: Any, signing_keys: tuple[str, str], token: Any, wait_for: Any, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """Under load: every request answers within the bound (2xx, or 503 with Retry-After while the store is silent;
    the client retries with the same key), the services recover by themselves, and nothing is lost or duplicated.
    The services run with a store deadline of 5 s (XUEJI_MONGODB_TIMEOUT_SECONDS, off by default), as a province
    whose largest store answer fits in it would set."""
    monkeypatch.setenv("XUEJI_MONGODB_TIMEOUT_SECONDS", "5")  # the services' processes inherit it
    outcome = await under_load_across(isolation, signing_keys, token, wait_for, tmp_path, isolation.servers.mongodb,
                                      f"mongodb://{store_path.address}/", Silenced(store_path))  # fmt: skip
    slowest = max(outcome.answers.slowest, outcome.load.slowest)
    outcome.record("store_blackhole_under_load", slowest_answer_s=slowest)
    assert slowest <= BOUNDS[5.0], f"a request took {slowest:.1f} s"
    assert all(outcome.seen[a] - {200} for a in outcome.seen), outcome.seen  # readiness went false on both
    outcome.check(chaos.load(ENROLLMENTS))


async def test_a_store_300_ms_away_slows_enrollments_and_transfers_but_refuses_nothing(
    store_path: CuttableProxy, isolation: Any, signing_keys: tuple[str, str], token: Any, wait_for: Any, tmp_path: Path
) -> None:
    """300 ms more per round trip to the store (150 ms each way) for 20 s under load: slower, never refused."""
    outcome = await under_load_across(isolation, signing_keys, token, wait_for, tmp_path, isolation.servers.mongodb,
                                      f"mongodb://{store_path.address}/", Slowed(store_path, 150))  # fmt: skip
    outcome.record(
        "store_latency_300ms_under_load", slowest_answer_s=max(outcome.answers.slowest, outcome.load.slowest)
    )
    assert outcome.answers.refused == 0 and outcome.load.requests == chaos.load(ENROLLMENTS)  # none refused
    assert all(outcome.seen[a] == {200} for a in outcome.seen), outcome.seen  # ready all along
    outcome.check(chaos.load(ENROLLMENTS))


async def test_with_the_defaults_an_answer_that_takes_longer_than_a_requests_bound_is_not_cut(
    store_path: CuttableProxy, isolation: Any
) -> None:
    """With an operation deadline on by default (5 s, as first built), a legitimately slow answer failed every time:
    a minute of 60,000 timers is read in one answer, which took over 5 s on a loaded local store, so those timers would
    never fire; a county's audit scans. By default only a silent store is cut short (the socket and monitor bounds)."""
    client = services_client(store_path)
    try:
        rows = client[f"{isolation.database}_slow_answer"]["rows"]
        await rows.insert_many([{"_id": n} for n in range(20)])
        store_path.delay(3000)  # the read and its answer each 3 s late: 6 s for the one round trip
        started = time.monotonic()
        read = [doc["_id"] async for doc in rows.find({})]
        took = time.monotonic() - started
    finally:
        store_path.delay(0)
        await client.close()
    assert sorted(read) == list(range(20)) and took > 5.0, took


async def test_the_timer_scheduler_keeps_ticking_through_a_silent_store_and_fires_what_fell_due_meanwhile(
    store_path: CuttableProxy, isolation: Any, wait_for: Any
) -> None:
    """R22 timers on the wall clock, through a path to the store that goes silent for 20 s (a service's client, with
    the default settings): the loop logs the failed ticks and goes on; a timer that fell due while the store was
    silent fires once the path is back, one due before fired before."""
    client = services_client(store_path)
    fired: list[str] = []

    async def fire(timer: Timer) -> None:
        fired.append(plain_id(timer.timer_id))

    try:
        store = TimerStore(client[f"{isolation.database}_timers"])
        now = datetime.now(UTC)
        for name, due in (("before", now + timedelta(seconds=1)), ("meanwhile", now + timedelta(seconds=12))):
            await store.arm(Timer(f"case-{name}:breach", "breach", f"case-{name}", due, {}))
        ticking = asyncio.create_task(
            TimerScheduler(store, fire, lookback_minutes=5).run_forever(timedelta(seconds=0.5))
        )
        try:
            await wait_for(lambda: fired == ["case-before:breach"], timeout=15)
            await store_path.blackhole(lose_state=True)
            await asyncio.sleep(20)
            assert fired == ["case-before:breach"]
            await store_path.restore()
            back = time.monotonic()
            await wait_for(lambda: "case-meanwhile:breach" in fired, timeout=30)
            recovery = time.monotonic() - back
        finally:
            ticking.cancel()
            await asyncio.gather(ticking, return_exceptions=True)
    finally:
        await client.close()
    chaos.record("timers_through_store_blackhole", requests=2, kills=1, lost=0, duplicated=len(fired) - 2,
                 projection_differences=0, http_5xx=0, recovery_s=recovery)  # fmt: skip
    assert fired == ["case-before:breach", "case-meanwhile:breach"]


async def test_an_enrollment_waits_for_dedupe_the_configured_seconds_on_a_slow_store_not_one_round_trip_per_poll(
    store_path: CuttableProxy, start_app: Any, token: Any
) -> None:
    """XUEJI_ENROLLMENT_WAIT_SECONDS is time: the request polls its record until then and answers 202. Counted in
    polls of 50 ms, each poll's store round trips came on top: with 300 ms more per round trip the 2 s wait took
    about 10 s (test_a_store_300_ms_away_..., slowest request 10.5-11.2 s)."""
    from xueji_registry.app import create_app
    from xueji_registry.settings import RegistrySettings

    wait = 1.0
    client = await start_app(create_app, RegistrySettings, mongodb_uri=f"mongodb://{store_path.address}/",
                             enrollment_wait_seconds=wait, scheduler_enabled=False)  # fmt: skip
    body = {"school_code": "3506020001", "name": "学生", "gender": "female", "birth_date": "2019-04-01", "grade": 1,
            "school_year": 2026}  # fmt: skip
    auth = {"Authorization": f"Bearer {token('school', '3506020001')}"}
    store_path.delay(150)
    try:
        started = time.monotonic()
        answer = await client.post("/v1/students", json=body, headers=auth)  # nobody answers its duplicate check
        took = time.monotonic() - started
    finally:
        store_path.delay(0)
    assert answer.status_code == 202, answer.text
    assert took < wait + 3.0, f"{took:.1f} s"  # the wait, and the few round trips storing the request takes

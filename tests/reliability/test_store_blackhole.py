"""A silent store (gray failure): the path to the store drops everything while the connections stay open (a firewall
that lost its state, a hung VM, a store stalled on a full disk). Nothing is refused or reset, nothing answers.
Every service still answers each request within a bound (503 with Retry-After, never a hang), is not ready while the
store is silent, and answers again without help once the path is back, though the connections it had stay silent
for good (only new ones work)."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import chaos
from faults import CuttableProxy
from test_store_outage import every_service_answering

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]
ANSWER_BOUND_S = 10.0  # the longest a request may take while the store is silent: then 503 with Retry-After


@pytest.fixture
async def store_path(isolation: Any) -> AsyncIterator[CuttableProxy]:
    """The path from the services to the test's store, a proxy a test can blackhole. Requested before `start_app`,
    so the services stop (over a working path) before it closes."""
    proxy = await CuttableProxy(isolation.servers.mongodb).start()
    yield proxy
    await proxy.stop()


async def timed(request: Awaitable[Any]) -> tuple[float, Any]:
    """(seconds, the answer), or (seconds, None) for none within a minute."""
    started = time.monotonic()
    try:
        answer = await asyncio.wait_for(request, timeout=60)
    except TimeoutError:
        answer = None
    return time.monotonic() - started, answer


async def test_a_silent_store_gets_503_within_a_bound_and_the_services_recover_on_their_own(
    store_path: CuttableProxy, start_app: Any, token: Any
) -> None:
    clients = await every_service_answering(start_app, token, store_path)
    await store_path.blackhole(lose_state=True)
    answers = await asyncio.gather(*(timed(c.get(p, headers=a)) for c, p, a in clients))
    readiness = await asyncio.gather(*(timed(c.get("/readyz")) for c, _, _ in clients))
    await store_path.restore()
    restored = time.monotonic()
    back = [await timed(client.get(path, headers=auth)) for client, path, auth in clients]
    ready = [await timed(client.get("/readyz")) for client, _, _ in clients]
    recovery = time.monotonic() - restored

    names = [client.app.title for client, _, _ in clients]
    chaos.record("store_blackhole", requests=len(answers) * 4, kills=1, lost=0, duplicated=0, projection_differences=0,
                 http_5xx=sum(a is None or a.status_code >= 500 for _, a in back + ready), recovery_s=recovery)  # fmt: skip
    took = {name: (round(s, 1), round(r, 1)) for name, (s, _), (r, _) in zip(names, answers, readiness, strict=True)}
    assert max(s for s, _ in answers + readiness) <= ANSWER_BOUND_S, took  # never a hang
    for name, (_, answer), (_, ready_answer) in zip(names, answers, readiness, strict=True):
        assert answer is not None and answer.status_code == 503, (name, answer and answer.text)
        assert int(answer.headers["retry-after"]) > 0, name
        assert "store" in answer.json()["detail"], name
        assert ready_answer.status_code == 503 and ready_answer.json()["checks"]["mongodb"] is False, name
    assert all(s <= ANSWER_BOUND_S and a is not None and a.status_code in {200, 404} for s, a in back), back
    assert all(s <= ANSWER_BOUND_S and a is not None and a.status_code == 200 for s, a in ready), ready

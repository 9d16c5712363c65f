"""A store outage (issue 15, defect 7): every service answers 503 with Retry-After and is not ready while its
store is away, and answers again without help when it is back."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import chaos
from faults import CuttableProxy

from xueji_dedupe.app import create_app as dedupe_app
from xueji_dedupe.settings import DedupeSettings
from xueji_notify.app import create_app as notify_app
from xueji_notify.settings import NotifySettings
from xueji_registry.app import create_app as registry_app
from xueji_registry.settings import RegistrySettings
from xueji_transfer.app import create_app as transfer_app
from xueji_transfer.settings import TransferSettings

pytestmark = pytest.mark.integration

# Each service with a read that must go to its store, and who may make it.
SERVICES = [
    (registry_app, RegistrySettings, "/v1/students/stu_0000000000000000", ("school", "3506020001")),
    (transfer_app, TransferSettings, "/v1/inbox", ("county", "350602")),
    (dedupe_app, DedupeSettings, "/v1/review-cases", ("county", "350602")),
    (notify_app, NotifySettings, "/v1/inbox", ("county", "350602")),
]


async def every_service_answering(
    start_app: Any, token: Any, proxy: CuttableProxy, **overrides: Any
) -> list[tuple[Any, str, Any]]:
    """Each service started on the store behind `proxy` (with settings `overrides`), as (client, its store read, the
    headers to make it), once the read answers."""
    clients = []
    for create, settings, path, (role, code) in SERVICES:
        client = await start_app(create, settings, mongodb_uri=f"mongodb://{proxy.address}/", **overrides)
        clients.append((client, path, {"Authorization": f"Bearer {token(role, code)}"}))
    for client, path, auth in clients:
        assert (await client.get(path, headers=auth)).status_code in {200, 404}
    return clients


async def test_store_outage_answers_503_with_retry_after_and_recovers(
    start_app: Any, isolation: Any, token: Any
) -> None:
    proxy = await CuttableProxy(isolation.servers.mongodb).start()
    clients = await every_service_answering(start_app, token, proxy)

    await proxy.cut()
    try:
        answers = await asyncio.gather(*(c.get(p, headers=a) for c, p, a in clients))
        readiness = await asyncio.gather(*(c.get("/readyz") for c, _, _ in clients))
    finally:
        await proxy.restore()
    for (client, path, _), answer, ready in zip(clients, answers, readiness, strict=True):
        name = client.app.title
        assert answer.status_code == 503, (name, path, answer.status_code, answer.text)
        assert int(answer.headers["retry-after"]) > 0, name
        assert "store" in answer.json()["detail"], name
        assert ready.status_code == 503 and ready.json()["checks"]["mongodb"] is False, name

    restored = time.monotonic()
    back = [(await client.get(path, headers=auth)).status_code for client, path, auth in clients]
    ready = [(await client.get("/readyz")).status_code for client, _, _ in clients]
    other_5xx = [a.status_code for a in answers if a.status_code >= 500 and a.status_code != 503]
    chaos.record("store_outage", requests=2 * len(clients), kills=1, lost=0, duplicated=0, projection_differences=0,
                 http_5xx=len(other_5xx) + sum(code >= 500 for code in back), recovery_s=time.monotonic() - restored)  # fmt: skip
    assert all(code in {200, 404} for code in back), back
    assert ready == [200] * len(clients), ready

"""Property-based requests from each service's own OpenAPI document (schemathesis), with a valid token: no answer
is a 5xx, and every answer has a documented status, content type and schema (issue 15, defect 10).

The services run in the test's event loop (their store clients belong to it); hypothesis draws and checks on a
worker thread and hands each request to that loop. Bounded: a few examples per operation, every operation.
"""

from __future__ import annotations

import asyncio
import sys
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from http_services import ENDLESS, as_httpx, start_one

pytestmark = pytest.mark.integration

EXAMPLES = 10  # per operation, every operation: about 10 s a service in-process
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
WHO = {"registry": ("county", "350602"), "transfer": ("county", "350602"), "dedupe": ("county", "350602"),
       "notify": ("province", "350000")}  # fmt: skip


def _fuzz(client: Any, loop: asyncio.AbstractEventLoop, token: str) -> tuple[list[str], Counter[int]]:
    schema = schemathesis.openapi.from_dict(client.app.openapi())
    failures: list[str] = []
    statuses: Counter[int] = Counter()
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path in ENDLESS:
            continue

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def check(case: Any) -> None:
            call = client.request(**as_httpx(case, {"Authorization": f"Bearer {token}"}))
            response = asyncio.run_coroutine_threadsafe(call, loop).result(timeout=60)
            response.request.read()  # a multipart body is streamed; the checks read what was sent
            statuses[response.status_code] += 1
            case.validate_response(response, checks=CHECKS)

        try:
            check()
        except Exception as exc:  # collect every operation's failure, then report them all
            told = "".join(traceback.format_exception(exc))[-3000:]
            failures.append(f"{operation.method.upper()} {operation.path}: {told}")
    return failures, statuses


@pytest.mark.timeout(600)
@pytest.mark.parametrize("name", sorted(WHO))
async def test_every_route_answers_as_documented_and_never_5xx(start_app, token, name):
    client = await start_one(start_app, name)
    failures, statuses = await asyncio.to_thread(_fuzz, client, asyncio.get_running_loop(), token(*WHO[name]))
    assert not failures, "\n\n".join(failures)
    operations = sum(1 for path in client.app.openapi()["paths"].values() for _ in path)
    assert sum(statuses.values()) >= 2 * operations, statuses  # every operation was really called, repeatedly
    assert sum(n for status, n in statuses.items() if status < 300) > 0, statuses  # the token lets requests in

"""Idempotency-Key on a write route, over the real store (IETF httpapi Idempotency-Key draft): a retry gets the
first answer and no second effect; the key reused for another request is 422; while the first request still runs,
409; a failed request (5xx) or a crashed one (a claim nobody refreshes) is run again; keys are the caller's own."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from xueji_contracts.auth import OperatorClaims
from xueji_kit.http import add_operational_routes
from xueji_kit.idempotency import fingerprint, key_id
from xueji_kit.idempotency_claims import COLLECTION, KeyClaims
from xueji_kit.security import TokenVerifier, mint_token
from xueji_kit.store import connect

pytestmark = pytest.mark.integration


async def _ready() -> dict[str, bool]:
    return {"ok": True}


@pytest.fixture
async def service(isolation: Any, signing_keys: tuple[str, str]) -> Any:
    mongo = connect(isolation.servers.mongodb)
    db = mongo[f"{isolation.database}_idempotency"]
    app = FastAPI()
    app.state.runtime = SimpleNamespace(db=db)
    app.state.token_verifier = TokenVerifier(signing_keys[1], "xueji", "xueji")
    app.state.key_claims = KeyClaims(db[COLLECTION], "test", beat=0.1, stale=0.5, wait=0.6)
    add_operational_routes(app, _ready)
    effects: list[dict[str, Any]] = []
    gate = asyncio.Event()
    gate.set()
    failures = {"left": 0}

    @app.delete("/v1/things/1", status_code=204)
    async def remove() -> Response:
        effects.append({"removed": 1})
        return Response(status_code=204)

    @app.post("/v1/things")
    async def create(request: Request) -> JSONResponse:
        await gate.wait()
        if failures["left"]:
            failures["left"] -= 1
            return JSONResponse({"detail": "broken"}, 503)
        effects.append(await request.json())
        return JSONResponse({"n": len(effects)}, 201)

    def auth(sub: str) -> dict[str, str]:
        claims = OperatorClaims.model_validate({"sub": sub, "role": "school", "code": "3506020001"})
        return {"Authorization": f"Bearer {mint_token(signing_keys[0], claims)}"}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://kit") as client:
        yield SimpleNamespace(client=client, effects=effects, gate=gate, failures=failures, auth=auth, db=db)
    await mongo.close()


async def test_a_retry_gets_the_first_answer_and_has_no_second_effect(service: Any) -> None:
    headers = {**service.auth("clerk-1"), "Idempotency-Key": "k-1"}
    first = await service.client.post("/v1/things", json={"a": 1, "b": 2}, headers=headers)
    spaced = {**headers, "content-type": "application/json"}
    retry = await service.client.post("/v1/things", content=b'{"b": 2,  "a": 1}', headers=spaced)
    assert (first.status_code, first.json()) == (201, {"n": 1})
    assert (retry.status_code, retry.json()) == (201, {"n": 1})
    assert retry.headers["idempotent-replayed"] == "true"
    assert len(service.effects) == 1


async def test_a_retried_delete_gets_its_204_again_without_a_body(service: Any) -> None:
    headers = {**service.auth("clerk-1"), "Idempotency-Key": "k-del"}
    first = await service.client.delete("/v1/things/1", headers=headers)
    retry = await service.client.delete("/v1/things/1", headers=headers)
    assert (first.status_code, retry.status_code) == (204, 204)
    assert retry.content == b"" and "content-length" not in retry.headers
    assert retry.headers["idempotent-replayed"] == "true" and service.effects == [{"removed": 1}]


async def test_the_same_key_with_another_request_is_refused_naming_the_header(service: Any) -> None:
    headers = {**service.auth("clerk-1"), "Idempotency-Key": "k-2"}
    await service.client.post("/v1/things", json={"a": 1}, headers=headers)
    other = await service.client.post("/v1/things", json={"a": 2}, headers=headers)
    elsewhere = await service.client.post("/v1/things?school=1", json={"a": 1}, headers=headers)
    for answer in (other, elsewhere):
        assert answer.status_code == 422, answer.text
        (problem,) = answer.json()["detail"]
        assert problem["field"] == "Idempotency-Key" and problem["in"] == "header"
        assert "different request" in problem["reason"]
    assert len(service.effects) == 1


async def test_keys_are_the_callers_own(service: Any) -> None:
    for sub in ("clerk-1", "clerk-2"):
        answer = await service.client.post(
            "/v1/things", json={"sub": sub}, headers={**service.auth(sub), "Idempotency-Key": "shared"}
        )
        assert answer.status_code == 201, answer.text
    assert len(service.effects) == 2


async def test_a_retry_while_the_first_runs_gets_409_then_the_first_answer(service: Any) -> None:
    headers = {**service.auth("clerk-1"), "Idempotency-Key": "k-3"}
    service.gate.clear()
    first = asyncio.create_task(service.client.post("/v1/things", json={"a": 3}, headers=headers))
    await asyncio.sleep(0.3)
    busy = await service.client.post("/v1/things", json={"a": 3}, headers=headers)
    assert busy.status_code == 409, busy.text
    assert busy.json()["detail"][0]["field"] == "Idempotency-Key" and int(busy.headers["retry-after"]) > 0
    await asyncio.sleep(0.6)  # longer than a claim may go stale: the running request keeps its claim alive
    busy_again = await service.client.post("/v1/things", json={"a": 3}, headers=headers)
    assert busy_again.status_code == 409, busy_again.text
    service.gate.set()
    assert (await first).status_code == 201
    after = await service.client.post("/v1/things", json={"a": 3}, headers=headers)
    assert (after.status_code, after.json()) == (201, {"n": 1})
    assert len(service.effects) == 1


async def test_a_failed_request_runs_again_and_a_crashed_ones_claim_is_taken_over(service: Any) -> None:
    headers = {**service.auth("clerk-1"), "Idempotency-Key": "k-4"}
    service.failures["left"] = 1
    failed = await service.client.post("/v1/things", json={"a": 4}, headers=headers)
    assert failed.status_code == 503
    again = await service.client.post("/v1/things", json={"a": 4}, headers=headers)
    assert again.status_code == 201, again.text
    # A process killed mid-request leaves a running claim nobody refreshes: the retry takes it over.
    body = b'{"a": 5}'
    abandoned = {
        "_id": key_id("clerk-1", "k-5"),
        "fingerprint": fingerprint("POST", "/v1/things", b"", "application/json", body),
        "state": "running",
        "holder": "killed",
        "beat_at": datetime.now(UTC) - timedelta(seconds=30),
        "created_at": datetime.now(UTC) - timedelta(seconds=30),
    }
    await service.db[COLLECTION].insert_one(abandoned)
    crashed = {**service.auth("clerk-1"), "Idempotency-Key": "k-5", "content-type": "application/json"}
    retry = await service.client.post("/v1/things", content=body, headers=crashed)
    assert retry.status_code == 201, retry.text
    assert service.effects == [{"a": 4}, {"a": 5}]


async def test_without_a_valid_token_or_a_key_nothing_is_kept(service: Any) -> None:
    bad = await service.client.post(
        "/v1/things", json={}, headers={"Idempotency-Key": "k", "Authorization": "Bearer x"}
    )
    assert bad.status_code == 201  # this test route asks no token; a real route answers 401
    malformed = await service.client.post(
        "/v1/things", json={}, headers={**service.auth("clerk-1"), "Idempotency-Key": "has space"}
    )
    assert malformed.status_code == 422 and malformed.json()["detail"][0]["field"] == "Idempotency-Key"
    assert await service.db[COLLECTION].count_documents({}) == 0


def test_every_write_route_documents_the_header_and_its_409_and_422() -> None:
    app = FastAPI()
    add_operational_routes(app, _ready)

    @app.post("/v1/things")
    async def create() -> dict[str, str]:
        return {}

    @app.get("/v1/things")
    async def read() -> dict[str, str]:
        return {}

    paths = app.openapi()["paths"]["/v1/things"]
    (header,) = [p for p in paths["post"]["parameters"] if p["name"] == "Idempotency-Key"]
    assert header["in"] == "header" and not header["required"] and header["schema"]["pattern"]
    assert "Idempotency-Key" in paths["post"]["responses"]["409"]["description"]
    assert "Idempotency-Key" in paths["post"]["responses"]["422"]["description"]
    assert all(p["name"] != "Idempotency-Key" for p in paths["get"].get("parameters", []))

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
from xueji_kit.store_commands import counting, install, scans, scope, tally

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
        yield SimpleNamespace(client=client, effects=effects, gate=gate, failures=failures, auth=auth, db=db, app=app)
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


async def test_a_retry_while_the_first_runs_gets_409_then_the_first_answer(service: Any, wait_for: Any) -> None:
    headers = {**service.auth("clerk-1"), "Idempotency-Key": "k-3"}
    service.gate.clear()
    first = asyncio.create_task(service.client.post("/v1/things", json={"a": 3}, headers=headers))
    # The retry comes once the first holds the key (not after a guess at how long claiming takes: on a busy store the
    # retry claimed it first, stopped at the gate and was never answered).
    await wait_for(lambda: service.db[COLLECTION].find_one({"_id": key_id("clerk-1", "k-3")}), interval=0.02)
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


async def test_retries_racing_for_an_abandoned_claim_run_it_once(service: Any) -> None:
    """Issue 15: a claim left by a crash is taken over by one retry however many race for it; the others wait for
    that retry's answer and replay it (on a store that reads, then writes, a conditional replace alone let each run)."""
    body = b'{"a": 6}'
    print_ = fingerprint("POST", "/v1/things", b"", "application/json", body)
    for holder_state in ("running", "released"):
        key = f"k-race-{holder_state}"
        abandoned = datetime.now(UTC) - timedelta(seconds=30)
        await service.db[COLLECTION].insert_one({"_id": key_id("clerk-1", key), "fingerprint": print_,
                                                 "state": holder_state, "holder": "killed", "beat_at": abandoned,
                                                 "created_at": abandoned})  # fmt: skip
        service.gate.clear()  # the winner holds its claim while the others arrive
        headers = {**service.auth("clerk-1"), "Idempotency-Key": key, "content-type": "application/json"}
        racing = [asyncio.create_task(service.client.post("/v1/things", content=body, headers=headers))
                  for _ in range(8)]  # fmt: skip
        await asyncio.sleep(0.3)
        service.gate.set()
        answers = await asyncio.gather(*racing)
        assert {a.status_code for a in answers} <= {201, 409}, [a.text for a in answers]
        replayed = [a for a in answers if a.headers.get("idempotent-replayed") == "true"]
        assert len([a for a in answers if a.status_code == 201]) - len(replayed) == 1, "one retry ran the request"
    assert service.effects == [{"a": 6}, {"a": 6}], "once per abandoned claim"


T0 = datetime(2026, 9, 1, 8, tzinfo=UTC)


async def test_a_key_expires_after_the_kept_hours_and_a_reuse_then_runs_as_new(service: Any) -> None:
    """Issue 15: keys are not kept for ever (XUEJI_IDEMPOTENCY_KEPT_HOURS, 24 h by default)."""
    now = [T0]
    service.app.state.key_claims = KeyClaims(service.db[COLLECTION], "test", kept=timedelta(hours=24),
                                             clock=lambda: now[0])  # fmt: skip
    headers = {**service.auth("clerk-1"), "Idempotency-Key": "k-expiring"}
    assert (await service.client.post("/v1/things", json={"a": 1}, headers=headers)).json() == {"n": 1}
    now[0] = T0 + timedelta(hours=23, minutes=59)  # still kept: the first answer, and another request is refused
    retry = await service.client.post("/v1/things", json={"a": 1}, headers=headers)
    assert (retry.status_code, retry.json(), retry.headers["idempotent-replayed"]) == (201, {"n": 1}, "true")
    assert (await service.client.post("/v1/things", json={"a": 2}, headers=headers)).status_code == 422
    now[0] = T0 + timedelta(hours=24)  # expired (not yet pruned): as if never used
    reused = await service.client.post("/v1/things", json={"a": 2}, headers=headers)
    assert (reused.status_code, reused.json()) == (201, {"n": 2}) and "idempotent-replayed" not in reused.headers
    now[0] += timedelta(hours=1)  # the new use is kept from its own first request
    again = await service.client.post("/v1/things", json={"a": 2}, headers=headers)
    assert (again.json(), again.headers["idempotent-replayed"]) == ({"n": 2}, "true")
    assert service.effects == [{"a": 1}, {"a": 2}]


async def test_reuses_racing_for_an_expired_key_run_the_request_once(service: Any) -> None:
    """Removing an expired key and claiming it afresh were two writes: of reuses racing for one expired key, one
    could remove the claim another had just made and both ran. One takes the key over (a marker naming the expired
    claim, inserted once); the others get its answer or 409 with Retry-After."""
    now = [T0]
    service.app.state.key_claims = KeyClaims(service.db[COLLECTION], "test", beat=0.1, stale=0.5, wait=0.6,
                                             clock=lambda: now[0])  # fmt: skip
    keys = [f"k-expired-{n}" for n in range(6)]
    for key in keys:
        first = {**service.auth("clerk-1"), "Idempotency-Key": key}
        assert (await service.client.post("/v1/things", json={"first": key}, headers=first)).status_code == 201
    now[0] = T0 + timedelta(hours=24, seconds=1)  # expired, not yet pruned

    async def reuse(key: str, after: float) -> httpx.Response:
        await asyncio.sleep(after)  # arriving a store round trip or so apart, as retries do
        headers = {**service.auth("clerk-1"), "Idempotency-Key": key}
        return await service.client.post("/v1/things", json={"again": key}, headers=headers)

    for key in keys:
        service.gate.clear()  # the winner holds the key while the others arrive
        racing = [asyncio.create_task(reuse(key, n * 0.002)) for n in range(8)]
        await asyncio.sleep(0.3)
        service.gate.set()
        answers = await asyncio.gather(*racing)
        ran = [a for a in answers if a.status_code == 201 and "idempotent-replayed" not in a.headers]
        assert len(ran) == 1, [(a.status_code, a.text) for a in answers]
        for other in answers:
            if other is not ran[0]:
                assert other.status_code in (201, 409), other.text
                assert other.status_code == 409 or other.headers["idempotent-replayed"] == "true"
                assert other.status_code == 201 or int(other.headers["retry-after"]) > 0
    assert service.effects[len(keys) :] == [{"again": key} for key in keys]


class DiesBeforeWriting:
    """A collection whose `replace_one` never arrives: the process taking a key over died after winning the marker."""

    def __init__(self, collection: Any) -> None:
        self._collection = collection

    def __getattr__(self, name: str) -> Any:
        return getattr(self._collection, name)

    async def replace_one(self, *_: Any, **__: Any) -> None:
        raise ConnectionError("killed")


async def test_a_key_whose_taker_died_after_winning_the_marker_is_taken_over_once_the_marker_is_stale(
    service: Any,
) -> None:
    now = [T0]
    collection = service.db[COLLECTION]
    claims = KeyClaims(collection, "a", stale=5, wait=0.3, clock=lambda: now[0])
    assert (await claims.claim("k", "print", {})).outcome == "run"
    await claims.answered("k", {"status": 201, "headers": {}, "body": b"{}"})
    now[0] = T0 + timedelta(hours=24, seconds=1)
    dying = KeyClaims(DiesBeforeWriting(collection), "dying", stale=5, wait=0.3, clock=lambda: now[0])  # type: ignore[arg-type]
    with pytest.raises(ConnectionError):
        await dying.claim("k", "print", {})
    assert (await claims.claim("k", "print", {})).outcome == "in_flight", "its marker is fresh: it may still write"
    now[0] += timedelta(seconds=6)
    assert (await claims.claim("k", "print", {})).outcome == "run"
    assert (await claims.claim("k", "print", {})).outcome == "in_flight", "taken over once"


async def test_expired_keys_are_pruned_in_bounded_batches_and_requests_select_by_id_only(isolation: Any) -> None:
    """Issue 15: the prune (a background job, hourly) removes at most `limit` keys a turn from one scan, `chunk`
    ids per delete; claiming, answering, replaying and reusing an expired key send `_id` filters only."""
    install()  # before the client: its commands are counted
    mongo = connect(isolation.servers.mongodb)
    db = mongo[f"{isolation.database}_prune"]
    now = [T0]
    claims = KeyClaims(db[COLLECTION], "test", kept=timedelta(hours=24), clock=lambda: now[0])
    with counting(db.name) as log:
        with scope("requests"):
            for n in range(12):
                assert (await claims.claim(f"old-{n}", "print", {})).outcome == "run"
                await claims.answered(f"old-{n}", {"status": 201, "headers": {}, "body": b"{}"})
            now[0] = T0 + timedelta(hours=20)
            for n in range(3):
                assert (await claims.claim(f"new-{n}", "print", {})).outcome == "run"
                await claims.release(f"new-{n}")
            assert (await claims.claim("old-0", "print", {})).outcome == "replay"
            now[0] = T0 + timedelta(hours=24, seconds=1)
            assert (await claims.claim("old-11", "other print", {})).outcome == "run"  # expired: new
        assert scans(log.take("requests")) == []
        with scope("prune"):
            assert await claims.prune(limit=5, chunk=2) == 5
        assert tally(log.take("prune")) == {"delete idempotency_keys": 3, "find idempotency_keys": 1}
        assert await claims.prune(limit=100, chunk=4) == 6
        assert await claims.prune() == 0
    kept = sorted([d["_id"] async for d in db[COLLECTION].find({})])
    # The reuse of expired old-11 took it over by a marker, which is kept (and pruned) as a key is.
    assert (
        kept[:4] == ["new-0", "new-1", "new-2", "old-11"] and kept[4].startswith("takeover:old-11:") and len(kept) == 5
    )
    await mongo.close()


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


def test_every_service_keeps_keys_the_configured_hours_and_prunes_them_in_the_background() -> None:
    from xueji_kit.runtime import ServiceRuntime
    from xueji_kit.settings import ServiceSettings

    settings = ServiceSettings(idempotency_kept_hours=2, idempotency_prune_seconds=600)
    runtime = ServiceRuntime(settings, title="t", description="d")
    assert runtime.key_claims.kept == timedelta(hours=2)
    assert runtime.http_app().state.key_claims is runtime.key_claims
    [job] = [j for j in runtime.background if getattr(getattr(j, "func", None), "__name__", "") == "prune_expired_keys"]
    assert job.args == (runtime.key_claims,) and job.keywords == {"every": 600}
    assert ServiceSettings().idempotency_kept_hours == 24


async def test_a_request_cut_off_mid_body_claims_nothing_and_its_retry_runs(service: Any) -> None:
    """An upload whose connection dropped mid-file: what arrived is no request, so the key is not claimed for it (it
    was, with the partial body's fingerprint and the 400 of the unreadable half, and the clerk's retry of the whole
    file got 422 "already used for a different request" for a day)."""
    headers = {**service.auth("clerk-1"), "Idempotency-Key": "upload-42", "content-type": "application/json"}
    body = b'{"class": "' + b"x" * 5000 + b'"}'
    parts = [
        {"type": "http.request", "body": body[:2000], "more_body": True},
        {"type": "http.disconnect"},
    ]

    async def receive() -> dict[str, Any]:
        if parts:
            return parts.pop(0)
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "method": "POST", "path": "/v1/things", "raw_path": b"/v1/things", "query_string": b"",
        "root_path": "", "scheme": "http", "http_version": "1.1", "server": ("kit", 80), "client": ("clerk", 1),
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()], "app": service.app,
    }  # fmt: skip
    await service.app(scope, receive, send)
    assert service.effects == []
    retry = await service.client.post("/v1/things", content=body, headers=headers)
    assert retry.status_code == 201, retry.text
    assert len(service.effects) == 1

"""A store operation out of time is the store being away, wherever it happens: every store operation now has a time
limit (`connect`, XUEJI_MONGODB_TIMEOUT_SECONDS), and pymongo says it ran out either as a NetworkTimeout (a
ConnectionFailure: no answer on the socket) or as an ExecutionTimeout (an OperationFailure: the store gave up at
maxTimeMS, or the driver would not send a command the time left could not cover), or a write or bulk write error
marked as a timeout. Each is answered 503 with Retry-After, waited out by consumers, and leaves the outbox as it is;
none is a 500, a dead letter or a parked follow-up."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from faststream.kafka import KafkaBroker, TestKafkaBroker
from pymongo.errors import BulkWriteError, DuplicateKeyError, ExecutionTimeout, NetworkTimeout, WTimeoutError

from xueji_contracts.auth import OperatorClaims
from xueji_kit.batches import handle_batch
from xueji_kit.deadletter import make_dead_letter_middleware
from xueji_kit.event_store import EventStore
from xueji_kit.http import add_operational_routes
from xueji_kit.lease import SlotLease
from xueji_kit.relay import OutboxRelay
from xueji_kit.security import TokenVerifier, mint_token
from xueji_kit.store import connect, store_away

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_relay import _acknowledged_at_once, _outgoing

OUT_OF_TIME = [
    NetworkTimeout("127.0.0.1:27017: timed out (configured timeouts: timeoutMS: 5000.0ms)"),
    ExecutionTimeout("operation would exceed time limit, remaining timeout:0.00100 <= network round trip time", 50),
    ExecutionTimeout("operation exceeded time limit", 50, {"ok": 0, "code": 50, "codeName": "MaxTimeMSExpired"}),
    WTimeoutError("waiting for replication timed out", 64, {"ok": 1, "writeConcernError": {"code": 64}}),
    BulkWriteError({"writeErrors": [{"index": 0, "code": 50, "errmsg": "operation exceeded time limit"}]}),
]


@pytest.mark.parametrize("error", OUT_OF_TIME, ids=lambda e: type(e).__name__)
def test_every_way_pymongo_says_out_of_time_is_the_store_away(error: Exception) -> None:
    assert store_away(error)


def test_a_refused_write_is_not_the_store_away() -> None:
    assert not store_away(DuplicateKeyError("E11000 duplicate key", 11000))
    assert not store_away(BulkWriteError({"writeErrors": [{"index": 0, "code": 11000, "errmsg": "E11000"}]}))


async def _ready() -> dict[str, bool]:
    return {"mongodb": False}


async def test_a_request_whose_store_operation_ran_out_of_time_answers_503_with_retry_after() -> None:
    app = FastAPI()
    add_operational_routes(app, _ready)
    raised: list[Exception] = [*OUT_OF_TIME, DuplicateKeyError("E11000 duplicate key", 11000)]

    @app.get("/v1/things/{n}")
    async def read(n: int) -> None:
        raise raised[n]

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://kit") as client:
        answers = [await client.get(f"/v1/things/{n}") for n in range(len(raised))]
    *timed_out, refused = answers
    assert [a.status_code for a in timed_out] == [503] * len(OUT_OF_TIME), [a.text for a in timed_out]
    assert all(int(a.headers["retry-after"]) > 0 and "store unavailable" in a.json()["detail"] for a in timed_out)
    assert refused.status_code == 500 and "DuplicateKeyError" in refused.json()["detail"]  # a bug, not an outage


async def test_an_idempotency_key_claim_out_of_time_answers_503_with_retry_after(signing_keys: tuple[str, str]) -> None:
    class SilentClaims:
        async def claim(self, *_: Any) -> Any:
            raise ExecutionTimeout("operation would exceed time limit", 50)

    app = FastAPI()
    app.state.runtime = SimpleNamespace(db=None)
    app.state.token_verifier = TokenVerifier(signing_keys[1], "xueji", "xueji")
    app.state.key_claims = SilentClaims()
    add_operational_routes(app, _ready)
    ran: list[int] = []

    @app.post("/v1/things")
    async def create() -> dict[str, int]:
        ran.append(1)
        return {"n": 1}

    claims = OperatorClaims.model_validate({"sub": "clerk", "role": "school", "code": "3506020001"})
    headers = {"Authorization": f"Bearer {mint_token(signing_keys[0], claims)}", "Idempotency-Key": "k-1"}
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://kit") as client:
        answer = await client.post("/v1/things", json={}, headers=headers)
    assert answer.status_code == 503 and int(answer.headers["retry-after"]) > 0, answer.text
    assert ran == []  # not run without its key kept


async def test_a_consumer_waits_out_a_store_out_of_time_instead_of_dead_lettering_the_message() -> None:
    broker = KafkaBroker(middlewares=[make_dead_letter_middleware(0, backoff=0.01)])
    failures = [ExecutionTimeout("operation exceeded time limit", 50), NetworkTimeout("timed out")]
    handled: list[dict[str, Any]] = []
    letters: list[dict[str, Any]] = []

    @broker.subscriber("things.v1")
    async def take(body: dict[str, Any]) -> None:
        if failures:
            raise failures.pop(0)
        handled.append(body)

    @broker.subscriber("things.v1.dlq")
    async def letter(body: dict[str, Any]) -> None:
        letters.append(body)

    message = _outgoing("s1", 1).message.model_dump(mode="json")
    async with TestKafkaBroker(broker) as test:
        await test.publish(message, "things.v1")
    assert (handled, letters) == ([message], [])


class _Broker:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    async def publish(self, body: dict[str, Any], topic: str, key: bytes | None = None) -> None:
        self.sent.append((topic, body))


async def test_a_batch_whose_store_ran_out_of_time_is_not_taken_apart_and_dead_lettered() -> None:
    records = [SimpleNamespace(value=json.dumps({"n": n}).encode(), offset=n, topic="t.v1", partition=0, key=b"k")
               for n in range(3)]  # fmt: skip
    message = SimpleNamespace(raw_message=tuple(records), parsed_records=records)
    broker = _Broker()

    async def handle(items: list[int]) -> None:
        raise ExecutionTimeout("operation exceeded time limit", 50)

    with pytest.raises(ExecutionTimeout):  # to the dead-letter middleware, which waits for the store
        await handle_batch(broker, message, [0, 1, 2], handle, backoff=0.0)
    assert broker.sent == []


@pytest.mark.integration
async def test_a_follow_up_whose_store_ran_out_of_time_keeps_its_entries_in_the_outbox_unparked(
    isolation: Any,
) -> None:
    client = connect(isolation.servers.mongodb)
    try:
        db = client[f"{isolation.database}_relay_timeout"]
        store = EventStore(db)
        await store.ensure_indexes()
        await store.append(commit_id="s1-1", aggregate_id="s1", version=1, events=[{"grade": 1}],
                           outgoing=[_outgoing("s1", 1)])  # fmt: skip
        sent: list[dict[str, Any]] = []
        followed: list[int] = []
        slow = {"store": True}

        async def follower(entries: list[dict[str, Any]]) -> None:
            if slow["store"]:
                raise ExecutionTimeout("operation exceeded time limit", 50)
            followed.append(len(entries))

        relay = OutboxRelay(store, SlotLease(db["leases"], "relay", "a"), _acknowledged_at_once(sent),
                            batch_size=100, interval=0.1, follow_attempts=3, follow_backoff=0.01)  # fmt: skip
        relay.followers.append(follower)
        with pytest.raises(ExecutionTimeout):
            await relay.run_once(datetime.now(UTC))
        assert await relay.parked.listed() == []
        assert [c["_id"] for c in await store.unpublished(100)] != []  # still there for the next turn
        slow["store"] = False
        await relay.run_once(datetime.now(UTC))
        assert followed == [1] and await store.unpublished(100) == []
    finally:
        await client.close()


@pytest.mark.integration
async def test_the_relay_reads_a_backlog_through_a_client_whose_every_operation_has_a_deadline(isolation: Any) -> None:
    """A service's client gives every operation XUEJI_MONGODB_TIMEOUT_SECONDS (pymongo's timeoutMS), which sends
    maxTimeMS with every command; the relay's outbox read sends its own getMore, which the store refuses with one
    ('cannot set maxTimeMS on getMore command for a non-awaitData cursor')."""
    client = connect(isolation.servers.mongodb, timeout=5.0)
    try:
        db = client[f"{isolation.database}_relay_deadline"]
        store = EventStore(db)
        await store.ensure_indexes()
        for student in ("s1", "s2", "s3"):
            await store.append(commit_id=f"{student}-1", aggregate_id=student, version=1, events=[{"grade": 1}],
                               outgoing=[_outgoing(student, 1)])  # fmt: skip
        sent: list[dict[str, Any]] = []
        relay = OutboxRelay(store, SlotLease(db["leases"], "relay", "a"), _acknowledged_at_once(sent),
                            batch_size=100, interval=0.1)  # fmt: skip
        assert await relay.run_once(datetime.now(UTC)) == 3
        assert sorted(m["key"] for m in sent) == ["s1", "s2", "s3"]
    finally:
        await client.close()

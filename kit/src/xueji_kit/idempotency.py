"""The `Idempotency-Key` header every write route takes (IETF httpapi Idempotency-Key draft): a client that retries
after a lost answer sends the same key and gets the first answer (status and body), never a second effect.

`IdempotentRetries` does it for every POST/PUT/PATCH/DELETE under `/v1/` of every service, before the route runs:
keys belong to the caller (the token's subject), so two operators never share one. The same key with another
request (method, path, query or body) is refused with 422 naming the header; a retry while the first request still
runs waits for it a few seconds, then gets 409 with `Retry-After`. A 5xx or an exception is not an answer: the
retry runs the request again. Requests without the header, or without a valid token (the route answers 401),
pass untouched. Routes may still derive their commit ids from the key (`IdempotencyKey`): that keeps the effect
single even when a crash lost the first answer before it was kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import re
import uuid
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode

import structlog
from fastapi import Header, HTTPException
from pymongo.errors import PyMongoError
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from xueji_kit.edge import STORE_RETRY_AFTER_SECONDS, answer, replaying
from xueji_kit.idempotency_claims import COLLECTION, KeyClaims
from xueji_kit.store import store_away

HEADER = "Idempotency-Key"
KEY_PATTERN = r"^[\x21-\x7e]{1,200}$"
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
KEPT_ANSWER_BYTES = 8 * 1024 * 1024  # a store document holds 16 MB; a larger answer is not kept (the route reruns)
REPLAYED_HEADERS = (b"content-type", b"content-disposition", b"location")
log = structlog.get_logger("idempotency")

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias=HEADER,
        pattern=KEY_PATTERN,
        description="repeat a request safely: a retry with the same key gets the first answer",
    ),
]


def takes_key(method: str, path: str) -> bool:
    """The routes `IdempotentRetries` serves, and whose OpenAPI operations document the header."""
    return method.upper() in WRITES and path.startswith("/v1/")


def _problem(reason: str) -> list[dict[str, str]]:
    return [{"field": HEADER, "reason": reason, "in": "header"}]


def key_reused() -> HTTPException:
    """The key came with a different request before: refused rather than answered with another request's outcome."""
    return HTTPException(422, _problem("already used for a different request"))


def fingerprint(method: str, path: str, query: bytes, content_type: str, body: bytes) -> str:
    """What makes two requests the same request: method, path, query and body. A JSON body is compared as JSON (key
    order and spacing aside); a multipart body without its boundary, which a client draws anew on every send."""
    kind, _, params = content_type.partition(";")
    kind = kind.strip().lower()
    if kind.endswith("json"):
        with contextlib.suppress(ValueError):
            body = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    elif kind == "multipart/form-data":
        boundary = re.search(r'boundary="?([^";]+)"?', params)
        if boundary:
            body = body.replace(boundary.group(1).encode(), b"")
    ordered = urlencode(sorted(parse_qsl(query.decode("latin-1"), keep_blank_values=True)))
    digest = hashlib.sha256("\n".join((method.upper(), path, ordered, kind, "")).encode())
    digest.update(body)
    return digest.hexdigest()


def key_id(subject: str, key: str) -> str:
    """The claim's `_id`: the key within its caller's keys."""
    return hashlib.sha256(json.dumps([subject, key]).encode()).hexdigest()


async def _read(receive: Receive) -> tuple[bytes | None, Receive]:
    """The whole body, and a `receive` that gives it again; None when the client went away before it was all sent
    (an upload cut off mid-file): that part of a body is no request to claim a key for."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None, replaying([message], receive)
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            body = b"".join(chunks)
            return body, replaying([{"type": "http.request", "body": body, "more_body": False}], receive)


def _json(status: int, detail: Any, *extra: tuple[bytes, bytes]) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
    return status, json.dumps({"detail": detail}).encode(), [(b"content-type", b"application/json"), *extra]


class IdempotentRetries:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.holder = f"{os.getpid()}:{uuid.uuid4().hex[:8]}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not takes_key(scope["method"], scope["path"]):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        key = headers.get(HEADER)
        state = scope["app"].state
        runtime, verifier = getattr(state, "runtime", None), getattr(state, "token_verifier", None)
        authorization = headers.get("authorization", "")
        subject = verifier.subject(authorization[7:]) if verifier and authorization[:7].lower() == "bearer " else None
        if key is None or runtime is None or subject is None:
            await self.app(scope, receive, send)  # no key, or no caller to keep it for: the route answers (401)
            return
        if not re.fullmatch(KEY_PATTERN, key):
            await answer(send, *_json(422, _problem("1 to 200 printable ASCII characters, no spaces")))
            return
        body, receive = await _read(receive)
        if body is None:  # the key stays free for the retry of the whole request (the answer reaches nobody)
            log.info("idempotent_request_cut_off", path=scope["path"])
            cut = [{"field": "body", "reason": "cut off before its end: send the request again", "in": "body"}]
            await answer(send, *_json(400, cut))
            return
        print_ = fingerprint(scope["method"], scope["path"], scope.get("query_string", b""),
                             headers.get("content-type", ""), body)  # fmt: skip
        claims: KeyClaims | None = getattr(state, "key_claims", None)
        if claims is None:
            claims = state.key_claims = KeyClaims(runtime.db[COLLECTION], self.holder)
        claim_id = key_id(subject, key)
        about = {"subject": subject, "key": key, "method": scope["method"], "path": scope["path"]}
        try:
            claim = await claims.claim(claim_id, print_, about)
        except PyMongoError as exc:
            if not store_away(exc):
                raise
            retry = (b"retry-after", str(STORE_RETRY_AFTER_SECONDS).encode())
            await answer(send, *_json(503, "store unavailable, retry later", retry))
            return
        if claim.outcome == "reused":
            await answer(send, *_json(422, _problem("already used for a different request (method, path or body)")))
        elif claim.outcome == "in_flight":
            busy = _problem("the first request with this key is still running; retry later")
            await answer(send, *_json(409, busy, (b"retry-after", b"1")))
        elif claim.outcome == "replay" and claim.answer is not None:
            kept = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in claim.answer["headers"].items()]
            kept.append((b"idempotent-replayed", b"true"))
            await answer(send, claim.answer["status"], bytes(claim.answer["body"]), kept)
        else:
            await self._run(scope, receive, send, claims, claim_id)

    async def _run(self, scope: Scope, receive: Receive, send: Send, claims: KeyClaims, claim_id: str) -> None:
        status, kept, chunks, size = 500, {}, [], 0

        async def capture(message: Message) -> None:
            nonlocal status, kept, size
            if message["type"] == "http.response.start":
                status = message["status"]
                # A name-to-value map: FerretDB 1.x stores no nested arrays.
                kept = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in message.get("headers", [])
                        if k.lower() in REPLAYED_HEADERS}  # fmt: skip
            elif message["type"] == "http.response.body" and size <= KEPT_ANSWER_BYTES:
                chunks.append(message.get("body", b""))
                size += len(chunks[-1])
            await send(message)

        alive = asyncio.create_task(claims.keep_alive(claim_id))
        try:
            await self.app(scope, receive, capture)
        except BaseException:
            await self._settle(claims.release(claim_id))
            raise
        finally:
            alive.cancel()
        if status >= 500 or size > KEPT_ANSWER_BYTES:
            await self._settle(claims.release(claim_id))
        else:
            await self._settle(claims.answered(claim_id, {"status": status, "headers": kept, "body": b"".join(chunks)}))

    @staticmethod
    async def _settle(write: Any) -> None:
        """A claim write after the route ran: if the store refuses it, the claim goes stale and a retry reruns."""
        try:
            await asyncio.shield(write)
        except (PyMongoError, asyncio.CancelledError) as exc:
            log.warning("idempotency_claim_not_settled", error=type(exc).__name__)

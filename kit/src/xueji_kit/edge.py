"""What every request body passes before a route sees it: a size limit checked before anything is read or stored
(413), JSON that is valid UTF-8, and no control or bidirectional-override characters in any text field (422
naming the field). A NUL in a name breaks the CSV and XLSX a bureau files; U+202E makes a name read backwards.

Limits are per path: `app.state.body_limits = {"/v1/students/bulk": (bytes, "file")}`; every other body gets
`DEFAULT_LIMIT`.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from xueji_contracts.text import CONTROL, REASON

DEFAULT_LIMIT = 1024 * 1024
# What a client is told to wait before retrying while the store is away: about one server-selection timeout.
STORE_RETRY_AFTER_SECONDS = 5


def _problem(status: int, field: str, reason: str) -> tuple[int, bytes]:
    return status, json.dumps({"detail": [{"field": field, "reason": reason, "in": "body"}]}).encode()


def control_character_at(value: Any, path: str = "") -> str | None:
    """The dotted path of the first text holding a control character, or None."""
    if isinstance(value, str):
        return (path or "<body>") if CONTROL.search(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = control_character_at(str(key), path) or control_character_at(item, f"{path}.{key}" if path else key)
            if found:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = control_character_at(item, f"{path}.{index}" if path else str(index))
            if found:
                return found
    return None


def _json_problem(body: bytes) -> tuple[int, bytes] | None:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return _problem(422, "<body>", f"not valid UTF-8 at byte {exc.start}: JSON bodies are UTF-8 (RFC 8259)")
    try:
        document = json.loads(text)
    except ValueError:
        return None  # the route's own validation names the JSON error
    field = control_character_at(document)
    if field is not None:
        return _problem(422, field, REASON)
    return None


class BodyGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limits: dict[str, tuple[int, str]] = getattr(scope["app"].state, "body_limits", {})
        limit, field = limits.get(scope["path"], (DEFAULT_LIMIT, "<body>"))
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        too_big = _problem(413, field, f"larger than {limit // (1024 * 1024) or 1} MB")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await answer(send, *too_big)  # refused before a byte of it is read
            return
        is_json = headers.get(b"content-type", b"").split(b";")[0].strip().lower().endswith(b"json")
        if declared is not None and not is_json:
            await self.app(scope, receive, send)  # the server holds the body to its declared length
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, replaying([message], receive), send)
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > limit:
                await answer(send, *too_big)
                return
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        problem = _json_problem(body) if is_json and body else None
        if problem is not None:
            await answer(send, *problem)
            return
        await self.app(scope, replaying([{"type": "http.request", "body": body, "more_body": False}], receive), send)


async def answer(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    """A whole answer from a middleware, before (or instead of) the route."""
    fixed = headers if headers is not None else [(b"content-type", b"application/json")]
    fixed = [h for h in fixed if h[0] != b"content-length"]
    if status not in (204, 304):  # these carry no body, and no Content-Length (RFC 9110, 8.6)
        fixed.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": fixed})
    await send({"type": "http.response.body", "body": body})


def replaying(messages: list[Message], then: Receive) -> Receive:
    """A receive that gives the messages already read, then whatever the server says next (a disconnect)."""
    pending = list(messages)

    async def receive() -> Message:
        if pending:
            return pending.pop(0)
        return await then()

    return receive

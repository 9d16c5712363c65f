"""R22: one webhook attempt ends within `webhook_timeout_seconds` in all, however slowly the receiver answers.

The settings only require the stale-claim time to exceed that timeout ("a claim taken over while its attempt may
still be running would deliver twice at once"), so the timeout must bound the whole attempt. httpx's own timeout
bounds each phase and each read, so a receiver that answers at once and then trickles its body kept an attempt
going as long as it liked: past the stale claim, another replica would post the same delivery beside it.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from xueji_notify.delivery import WebhookDeliverer
from xueji_notify.settings import NotifySettings

TRICKLE_SECONDS = 3.0


async def _trickling_receiver(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Reads the request, answers 200 at once, then sends its 30-byte body a byte every tenth of a second."""
    await reader.readuntil(b"\r\n\r\n")
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 30\r\n\r\n")
    await writer.drain()
    try:
        for _ in range(30):
            await asyncio.sleep(TRICKLE_SECONDS / 30)
            writer.write(b".")
            await writer.drain()
    except ConnectionError:
        pass  # the sender gave up: what this test wants
    finally:
        writer.close()


async def test_r22_a_receiver_trickling_its_answer_cannot_hold_an_attempt_past_the_timeout() -> None:
    server = await asyncio.start_server(_trickling_receiver, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    settings = NotifySettings(province="35", webhook_timeout_seconds=1.0, webhook_stale_claim_seconds=2.0)
    deliverer = WebhookDeliverer(settings, None, None, None, None)  # type: ignore[arg-type]  # _post uses none
    delivery: dict[str, Any] = {"_id": "d-1", "url": f"http://127.0.0.1:{port}/hook", "body": "{}"}
    try:
        async with httpx.AsyncClient(timeout=httpx.Timeout(settings.webhook_timeout_seconds)) as client:
            deliverer._client = client
            started = time.perf_counter()
            status, error, _ = await deliverer._post(delivery, "secret")
            took = time.perf_counter() - started
    finally:
        server.close()
        await server.wait_closed()
    assert took < settings.webhook_stale_claim_seconds, f"an attempt ran {took:.1f} s, past the stale claim"
    assert status is None and error is not None and "timeout" in error.lower()

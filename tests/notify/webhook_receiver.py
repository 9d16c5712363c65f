"""A real HTTPS webhook receiver on loopback, as a jurisdiction's own system would run one.

It verifies each request's signature with its own HMAC code (not notify's), applies a delivery at most
once by its id, and misbehaves on cue: answers 5xx, or applies and then never answers in time.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import uvicorn
from common import free_port
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key; notify trusts it through XUEJI_WEBHOOK_CA_FILE."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    cert_path, key_path = directory / "receiver.pem", directory / "receiver.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))  # fmt: skip
    return cert_path, key_path


@dataclass
class Received:
    delivery_id: str
    at: float
    valid_signature: bool
    body: dict[str, Any]
    consent: str = ""


@dataclass
class Receiver:
    """`script[path]`: what to do on the n-th request to that path: "fail", "slow" (apply, answer too
    late), "ok", or an HTTP status; the last entry repeats."""

    script: dict[str, list[str]]
    secrets: dict[str, str] = field(default_factory=dict)  # path -> signing secret
    slow_seconds: float = 3.0
    received: list[Received] = field(default_factory=list)
    applied: dict[str, int] = field(default_factory=dict)  # delivery id -> times its effect was applied
    base_url: str = ""

    async def handle(self, request: Request) -> Response:
        path = request.url.path
        body = await request.body()
        delivery = request.headers["x-xueji-delivery"]
        timestamp = int(request.headers["x-xueji-timestamp"])
        expected = (
            "v1=" + hmac.new(self.secrets[path].encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
        )
        valid = (
            hmac.compare_digest(expected, request.headers["x-xueji-signature"]) and abs(time.time() - timestamp) < 300
        )
        consent = unquote(request.headers.get("x-xueji-consent", ""))
        self.received.append(Received(delivery, time.monotonic(), valid, json.loads(body), consent))
        if not valid:
            return Response(status_code=401)
        steps = self.script[path]
        n = sum(1 for r in self.received if r.delivery_id == delivery) - 1
        step = steps[min(n, len(steps) - 1)]
        if step == "fail":
            return Response(status_code=503)
        if step.isdigit():
            return Response(status_code=int(step))
        if delivery not in self.applied:  # exactly-once effect: a delivery id is applied the first time only
            self.applied[delivery] = 0
        if self.applied[delivery] == 0:
            self.applied[delivery] = 1
        if step == "slow":
            await asyncio.sleep(self.slow_seconds)  # applied, but the answer comes too late for the sender
        return Response(status_code=200)

    async def serve(self, cert: Path, key: Path) -> tuple[uvicorn.Server, asyncio.Task[None]]:
        app = Starlette(routes=[Route("/{path:path}", self.handle, methods=["POST"])])
        port = free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=port, ssl_certfile=str(cert), ssl_keyfile=str(key),
                                log_level="warning", lifespan="off", timeout_graceful_shutdown=1)  # fmt: skip
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve())
        while not server.started:  # noqa: ASYNC110 (uvicorn offers no event for it)
            await asyncio.sleep(0.02)
        self.base_url = f"https://127.0.0.1:{port}"
        return server, task

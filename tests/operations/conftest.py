"""The runbook's tests (docs/operations.md executed): the operator commands run as the guide runs them, a subprocess
`python -m <module> ...` in the environment of the pod it names (the service's, or the ops-cli Job's: the same
variables), against the real broker and store the session's fixtures started. Bounded in time, loopback only."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "services" / "notify" / "tests"))  # notify_events: contract messages
sys.path.insert(0, str(ROOT / "tests" / "notify"))  # webhook_receiver
sys.path.insert(0, str(Path(__file__).resolve().parent))  # runbook_support


@dataclass(frozen=True)
class Ran:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def operator(isolation: Any) -> Callable[..., Any]:
    """`await operator(database, "xueji_kit.dlq", "replay", "--topic", ...)`: the command in a subprocess whose
    environment is a pod's of this test's deployment (its broker, store, database and topic prefix)."""

    async def run(database: str, module: str, *argv: str, timeout: float = 90.0) -> Ran:
        env = {
            "PATH": "/usr/bin:/bin",
            "KAFKA_BOOTSTRAP_SERVERS": isolation.servers.kafka,
            "MONGODB_URI": isolation.servers.mongodb,
            "XUEJI_MONGODB_DATABASE": database,
            "XUEJI_TOPIC_PREFIX": isolation.topic_prefix,
            "XUEJI_LOG_FORMAT": "console",
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", module, *argv, env=env, cwd=ROOT,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            out, err = await asyncio.wait_for(process.communicate(), timeout)
        except TimeoutError:
            process.kill()
            await process.wait()
            raise AssertionError(f"python -m {module} {' '.join(argv)} did not end within {timeout} s") from None
        assert process.returncode is not None
        return Ran(process.returncode, out.decode(), err.decode())

    return run


@pytest.fixture
async def receiver(tmp_path: Path) -> Any:
    """receiver(script) -> a signed-webhook receiver on loopback HTTPS (as tests/notify's); `receiver.cert` is the
    certificate notify must trust (XUEJI_WEBHOOK_CA_FILE)."""
    import contextlib

    from webhook_receiver import Receiver, self_signed

    cert, key = self_signed(tmp_path)
    made: list[Any] = []

    async def start(script: dict[str, list[str]]) -> Receiver:
        r = Receiver(script)
        made.append(await r.serve(cert, key))
        return r

    start.cert = cert  # type: ignore[attr-defined]
    yield start
    for server, task in made:
        server.should_exit = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 10)

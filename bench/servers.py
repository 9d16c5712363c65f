"""Servers for a benchmark run: KAFKA_BOOTSTRAP_SERVERS / MONGODB_URI if set, else the native local stack."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


# The process ids of the servers the running benchmark started (empty when it was given servers): their CPU is read
# from /proc (bench/proc_cpu.py).
SERVER_PIDS: dict[str, int] = {}


@contextlib.contextmanager
def bench_servers() -> Iterator[tuple[str, str]]:
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS") and os.environ.get("MONGODB_URI"):
        yield os.environ["KAFKA_BOOTSTRAP_SERVERS"], os.environ["MONGODB_URI"]
        return
    sys.path.insert(0, str(ROOT / "deploy" / "local" / "localstack"))
    from stack import start_servers

    with tempfile.TemporaryDirectory(prefix="xueji-bench-", dir=ROOT / ".local") as workdir:
        servers = start_servers(Path(workdir), fixed_ports=False)
        SERVER_PIDS.update(store=servers.mongo.process.pid, kafka=servers.kafka.process.pid)
        try:
            yield servers.kafka.address, servers.mongo.address
        finally:
            SERVER_PIDS.clear()
            servers.stop()

"""Start and stop the local servers (Kafka, FerretDB) and the four services as one supervised group."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import ferretdb_server
import kafka_server
from common import LOCAL, ROOT, Server, StackError, die_with_parent, free_port, require_free, tail

SERVICES = ("registry", "transfer", "dedupe", "notify")
DEFAULT_HTTP_PORTS = {"registry": 8101, "transfer": 8102, "dedupe": 8103, "notify": 8104}


@dataclass
class Servers:
    kafka: Server
    mongo: Server

    @property
    def env(self) -> dict[str, str]:
        return {"KAFKA_BOOTSTRAP_SERVERS": self.kafka.address, "MONGODB_URI": self.mongo.address}

    def stop(self) -> None:
        for server in (self.kafka, self.mongo):
            server.stop()


def install() -> None:
    kafka_server.install()
    ferretdb_server.install()


def start_servers(workdir: Path, *, fixed_ports: bool) -> Servers:
    """Fixed ports (overridable by env) for `make run`; free random ports for test runs."""

    def port(var: str, default: int) -> int:
        return int(os.environ.get(var, default)) if fixed_ports else free_port()

    kafka = kafka_server.start(
        workdir / "kafka", port("XUEJI_KAFKA_PORT", 19092), port("XUEJI_KAFKA_CONTROLLER_PORT", 19093)
    )
    try:
        mongo = ferretdb_server.start(workdir / "ferretdb" / "data", port("XUEJI_MONGO_PORT", 27027))
    except BaseException:
        kafka.stop()
        raise
    return Servers(kafka, mongo)


def start_service(name: str, port: int, env: dict[str, str], logs: Path) -> Server:
    require_free(port, f"the {name} service", f"XUEJI_{name.upper()}_PORT")
    logs.mkdir(parents=True, exist_ok=True)
    log_path = logs / f"{name}.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                f"xueji_{name}.app:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-access-log",
                "--timeout-graceful-shutdown",
                "10",
                "--timeout-keep-alive",  # as the image: above a reusing client's idle time (service.Dockerfile)
                "75",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **env},
            cwd=ROOT,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
    return Server(name, process, f"http://127.0.0.1:{port}", log_path)


def wait_ready(services: list[Server], timeout: float = 60.0) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    pending = list(services)
    while pending and time.monotonic() < deadline:
        for svc in list(pending):
            if svc.process.poll() is not None:
                raise StackError(
                    f"{svc.name} exited during start-up; last lines of {svc.log_path}:\n{tail(svc.log_path)}"
                )
            try:
                with urllib.request.urlopen(f"{svc.address}/readyz", timeout=2) as answer:  # noqa: S310
                    if answer.status == 200:
                        pending.remove(svc)
            except OSError:
                pass
        time.sleep(0.5)
    if pending:
        raise StackError(f"not ready after {timeout:.0f} s: {', '.join(s.name for s in pending)}; see {LOCAL}/run/logs")

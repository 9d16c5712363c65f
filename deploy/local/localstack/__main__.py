"""Local stack command line: `python deploy/local/localstack <install|run|servers|token>`.

install   resolve Kafka's jars and build FerretDB (idempotent)
servers   start Kafka and FerretDB only, print their addresses, stop on Ctrl-C
run       start servers, topics, the four services and the demo province; stop all on Ctrl-C
token     print a development operator token: token ROLE CODE
subscriber-token  print a status subscriber system's token: subscriber-token NAME (R52)
"""

from __future__ import annotations

import signal
import sys
import time
from typing import Any

import demo
import kafka_server
import keys
from common import LOCAL, StackError, quiet_libraries, require_free
from stack import DEFAULT_HTTP_PORTS, SERVICES, Servers, install, start_servers, start_service, wait_ready


def _wait_for_interrupt() -> None:
    stop = {"now": False}

    def handler(*_: object) -> None:
        stop["now"] = True

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    while not stop["now"]:
        time.sleep(0.5)


def run() -> None:
    import os

    from xueji_contracts.topics import all_topic_names

    install()
    _, public = keys.ensure_keys()
    servers: Servers | None = None
    services = []
    try:
        servers = start_servers(LOCAL / "run", fixed_ports=True)
        kafka_server.create_topics(servers.kafka.address, all_topic_names())
        env = {**servers.env, "XUEJI_JWT_PUBLIC_KEY_FILE": str(public), "XUEJI_LOG_FORMAT": "json"}
        ports = {name: int(os.environ.get(f"XUEJI_{name.upper()}_PORT", DEFAULT_HTTP_PORTS[name])) for name in SERVICES}
        env |= workbench_env(ports, demo.write_school_directory(LOCAL / "run" / "schools.csv"))
        issuer = start_issuer(ports["notify"], env)
        for name in SERVICES:
            services.append(start_service(name, ports[name], env, LOCAL / "run" / "logs"))
        wait_ready(services)
        loaded = demo.load(services[0].address, LOCAL / "run" / "demo-loaded")
        if loaded:
            print(f"demo province: enrolled {loaded} students in {len(demo.SCHOOLS)} Fujian schools", flush=True)
        _print_welcome(servers, services, issuer)
        _wait_for_interrupt()
    finally:
        print("\nstopping ...", flush=True)
        for svc in reversed(services):
            svc.stop()
        if servers is not None:
            servers.stop()
        print("stopped.", flush=True)


WORKBENCH_USERS = (
    ("school clerk, Xiangcheng primary", "school", "3506020001"),
    ("school clerk, Gulou primary", "school", "3501020001"),
    ("county bureau, Xiangcheng 350602", "county", "350602"),
    ("county bureau, Gulou 350102", "county", "350102"),
)


def workbench_env(ports: dict[str, int], directory: object) -> dict[str, str]:
    """No ingress locally: notify serves the workbench and the page calls each service on its own port, which
    allows notify's origin (CORS). Behind the province's ingress the same page calls /registry, /transfer, ..."""
    import json

    origin = f"http://127.0.0.1:{ports['notify']}"
    env = {"XUEJI_CORS_ORIGINS": json.dumps([origin]), "XUEJI_SCHOOL_DIRECTORY_FILE": str(directory)}
    for name in ("registry", "transfer", "dedupe"):
        env[f"XUEJI_WORKBENCH_{name.upper()}_URL"] = f"http://127.0.0.1:{ports[name]}"
    return env


def start_issuer(notify_port: int, env: dict[str, str]) -> Any:
    """The development token issuer beside the stack: renews a workbench's token before it runs out and trades the
    printed links' one-time codes for tokens (XUEJI_ISSUER_PORT, default 8105)."""
    import os

    from issuer import create_issuer, serve_in_thread

    port = int(os.environ.get("XUEJI_ISSUER_PORT", "8105"))
    require_free(port, "the development token issuer", "XUEJI_ISSUER_PORT")
    private, public = keys.ensure_keys()
    app = create_issuer(private.read_text(), public.read_text(), [f"http://127.0.0.1:{notify_port}"])
    serve_in_thread(app, port)
    env["XUEJI_WORKBENCH_TOKEN_REFRESH_URL"] = f"http://127.0.0.1:{port}/refresh"
    env["XUEJI_WORKBENCH_TOKEN_EXCHANGE_URL"] = f"http://127.0.0.1:{port}/exchange"
    return app


def _print_welcome(servers: Servers, services: list, issuer: Any) -> None:  # type: ignore[type-arg]
    print("\nxueji is running (Ctrl-C stops everything):\n")
    for svc in services:
        print(f"  {svc.name:<9} {svc.address}/docs    health {svc.address}/readyz    metrics {svc.address}/metrics")
    print(f"\n  Kafka     {servers.kafka.address}\n  MongoDB   {servers.mongo.address} (FerretDB)")
    print(f"  logs      {LOCAL}/run/logs/\n")
    notify = next(svc.address for svc in services if svc.name == "notify")
    province = issuer.state.sign_in_code("province", "350000")
    print(f"  SLA dashboard (province operator):\n    {notify}/dashboard#code={province}\n")
    print("  Workbench (each link signs one operator in once: it carries a one-time code, not a token;")
    print("  the token is renewed before it runs out, so a session lasts the working day):")
    for who, role, code in WORKBENCH_USERS:
        print(f"    {who:<34} {notify}/workbench#code={issuer.state.sign_in_code(role, code)}")
    print(f"    or open {notify}/workbench and paste a token from: make token ROLE=school CODE=3506020001\n")
    print("  a token:  make token ROLE=county CODE=350602\n", flush=True)


def main(argv: list[str]) -> int:
    quiet_libraries()
    command = argv[0] if argv else "run"
    try:
        if command == "install":
            install()
        elif command == "run":
            run()
        elif command == "servers":
            servers = start_servers(LOCAL / "run", fixed_ports=True)
            try:
                for key, value in servers.env.items():
                    print(f"export {key}={value}", flush=True)
                _wait_for_interrupt()
            finally:
                servers.stop()
        elif command == "token":
            if len(argv) != 3:
                print("usage: token ROLE CODE   e.g. token county 350602", file=sys.stderr)
                return 2
            print(keys.token(argv[1], argv[2]))
        elif command == "subscriber-token":
            if len(argv) != 2:
                print("usage: subscriber-token NAME   e.g. subscriber-token exam-registration", file=sys.stderr)
                return 2
            print(keys.subscriber_token(argv[1]))
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except StackError as exc:
        print(f"local stack: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

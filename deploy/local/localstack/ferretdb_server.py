"""FerretDB 1.x (SQLite backend) embedded in a small Go program: the local MongoDB wire-protocol store."""

from __future__ import annotations

import subprocess
from pathlib import Path

from common import LOCAL, ROOT, Server, StackError, die_with_parent, require_free, require_tool, run_quiet, wait_until

SOURCE = ROOT / "deploy" / "local" / "ferretdb"
BINARY = LOCAL / "bin" / "ferretdb"


def install() -> None:
    """Build the embedding program once (downloads FerretDB's Go module on first use)."""
    sources = [*SOURCE.glob("*.go"), SOURCE / "go.mod", SOURCE / "go.sum"]
    if BINARY.exists() and all(BINARY.stat().st_mtime >= s.stat().st_mtime for s in sources):
        return
    go = require_tool("go", "install Go 1.24+ (https://go.dev/dl or apt-get install golang)")
    print("local stack: building FerretDB (first run only, a few minutes) ...", flush=True)
    BINARY.parent.mkdir(parents=True, exist_ok=True)
    run_quiet([go, "build", "-o", str(BINARY), "."], SOURCE, "building FerretDB", {"CGO_ENABLED": "0"})


def start(data: Path, port: int, timeout: float = 60.0) -> Server:
    """Start FerretDB on 127.0.0.1:`port` with its SQLite files in `data`; return once `ping` answers."""
    install()
    require_free(port, "FerretDB", "XUEJI_MONGO_PORT")
    if data.exists() and not data.is_dir():
        raise StackError(f"FerretDB data path {data} is not a directory; remove it or run `make clean`")
    data.mkdir(parents=True, exist_ok=True)
    log_path = data.parent / "ferretdb.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(BINARY), "-listen", f"127.0.0.1:{port}", "-data", str(data)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
    uri = f"mongodb://127.0.0.1:{port}/"
    server = Server("ferretdb", process, uri, log_path)
    wait_until(lambda: _ping(uri), server, timeout, "FerretDB")
    return server


def _ping(uri: str) -> bool:
    from pymongo import MongoClient

    client: MongoClient[dict[str, object]] = MongoClient(uri, serverSelectionTimeoutMS=1000)
    try:
        return bool(client.admin.command("ping").get("ok"))
    finally:
        client.close()

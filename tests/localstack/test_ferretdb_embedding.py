"""The program that embeds the local FerretDB (deploy/local/ferretdb) passes its own Go tests: debug logging that
formats no document nobody reads, temporary files in memory."""

from __future__ import annotations

import os
import subprocess

import ferretdb_server
from common import require_tool


def test_the_embedding_programs_go_tests_pass():
    go = require_tool("go", "install Go 1.24+")
    # CGO off as for the server's own build (ferretdb_server.install), so the compiled packages are shared.
    env = {**os.environ, "CGO_ENABLED": "0"}
    done = subprocess.run(
        [go, "test", "./..."], cwd=ferretdb_server.SOURCE, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout + done.stderr

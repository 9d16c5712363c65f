"""Fixtures for the deployment checks: kustomize installed once, every overlay built once.

Nothing here needs Kafka, MongoDB, Docker or a cluster: kustomize is built from its Go module into
.local/bin by scripts/install_deploy_tools.sh (also run by `make bootstrap`), the rest is Python.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from deploy_facts import OVERLAYS, ROOT, Built, build


@pytest.fixture(scope="session")
def kustomize() -> Path:
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "install_deploy_tools.sh")], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        pytest.fail(f"installing kustomize failed:\n{result.stderr}", pytrace=False)
    return ROOT / ".local" / "bin" / "kustomize"


@pytest.fixture(scope="session")
def built(kustomize: Path) -> dict[str, Built]:
    """Every overlay, built once per session."""
    return {overlay: build(kustomize, overlay) for overlay in OVERLAYS}

"""The reliability suite's numbers: written to XUEJI_CHAOS_REPORT (set by `make chaos`) when the session ends."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import chaos


@pytest.fixture(scope="session", autouse=True)
def chaos_report() -> Iterator[None]:
    yield
    target = os.environ.get("XUEJI_CHAOS_REPORT")
    if target:
        chaos.write(Path(target))

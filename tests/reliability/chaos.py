"""How hard the reliability suite pushes, and what it measured: `make test` runs each scenario once with small load;
`make chaos` sets XUEJI_CHAOS_ROUNDS / XUEJI_CHAOS_LOAD for more kills and more requests, and XUEJI_CHAOS_REPORT to
the file the session writes every scenario's numbers to (requests, kills, lost, duplicated, projection differences,
5xx, recovery seconds)."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

FIELDS = ("requests", "kills", "lost", "duplicated", "projection_differences", "http_5xx", "recovery_s")
measured: dict[str, dict[str, Any]] = {}


def rounds() -> int:
    """Kills per scenario (each a kill and a restart)."""
    return max(1, int(os.environ.get("XUEJI_CHAOS_ROUNDS", "1")))


def load(base: int) -> int:
    """`base` requests (the `make test` size) times XUEJI_CHAOS_LOAD."""
    return max(1, round(base * float(os.environ.get("XUEJI_CHAOS_LOAD", "1"))))


def record(scenario: str, **numbers: float) -> None:
    """Add a scenario's numbers (summed over rounds; seconds, recovery_s and the like, the longest)."""
    row = measured.setdefault(scenario, dict.fromkeys(FIELDS, 0))
    for name, value in numbers.items():
        if name.endswith("_s"):  # seconds: the longest
            row[name] = round(max(float(row.get(name, 0)), value), 2)
        else:
            row[name] = row.get(name, 0) + value


def write(path: Path) -> None:
    """The scenarios measured now replace their rows; a scenario this run did not select (`make chaos
    PYTEST_ARGS="-k ..."`) keeps the row of the run that measured it. Each row says when and how hard it was run."""
    if not measured:
        return
    at, load_ = datetime.now(UTC).isoformat(timespec="seconds"), float(os.environ.get("XUEJI_CHAOS_LOAD", "1"))
    earlier = json.loads(path.read_text()).get("scenarios", {}) if path.exists() else {}
    now = {name: {**row, "measured_at": at, "rounds": rounds(), "load": load_} for name, row in measured.items()}
    report = {"measured_at": at, "rounds": rounds(), "load": load_, "scenarios": {**earlier, **now}}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")

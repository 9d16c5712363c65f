"""`make bench` is not part of `make test`; this keeps its modules importable and their options parseable, so a
refactor that breaks a benchmark fails here rather than on the next benchmark run."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # `make bench` runs `python -m bench` from the root

MODULES = ["pipeline", "transfer_timers", "transfer_throughput", "transfer_peers", "timer_scale", "dedupe_splink",
           "dedupe_scale", "registry_bulk", "dedupe_independent", "publish_cost"]  # fmt: skip
# transfer_throughput runs inside transfer_peers, round by round beside the Flowable peer (issue 19).
RUN_INSIDE = {"transfer_throughput": ("transfer_peers", "transfer_throughput.run_round(")}


@pytest.mark.parametrize("name", MODULES)
def test_benchmark_module_imports_and_has_an_entry_point(name: str) -> None:
    module = importlib.import_module(f"bench.{name}")
    assert callable(module.main)


def test_make_bench_runs_every_benchmark_module() -> None:
    source = (ROOT / "bench" / "__main__.py").read_text()
    for name in MODULES:
        if name in RUN_INSIDE:
            host, call = RUN_INSIDE[name]
            assert f"{host}.main(" in source, f"bench/__main__.py does not run {host}, which runs {name}"
            assert call in (ROOT / "bench" / f"{host}.py").read_text(), f"bench/{host}.py does not run {name}"
        else:
            assert f"{name}.main(" in source, f"bench/__main__.py does not run {name}"


def test_make_bench_runs_the_blind_dedupe_set() -> None:
    module = importlib.import_module("bench.blind.evaluate")
    assert callable(module.main)
    assert "dedupe_blind.main(" in (ROOT / "bench" / "__main__.py").read_text()

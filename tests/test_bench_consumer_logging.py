"""The bulk benchmark's consumer (`bench.registry_bulk._watch`, a process of its own on the cores the services use)
logs warnings only: a library its module imports (hanzipy, through dedupe) sets the root logger to DEBUG on import, and
the broker client then logged every fetch it made, formatted (4.4 MB of a 100,000-student run's output)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from bench.servers import ROOT


def test_the_bulk_benchmarks_consumer_logs_no_debug_lines_though_an_import_asks_for_them():
    script = textwrap.dedent(
        """
        import logging, queue
        from bench import registry_bulk
        assert logging.getLogger().getEffectiveLevel() == logging.DEBUG, "the import no longer asks for DEBUG"
        try:  # no broker at this address: the consumer fails to start, after the lines it logs on the way
            registry_bulk._watch("127.0.0.1:9", "none.", 1, 2.0, 0, queue.Queue())
        except Exception as exc:
            print("stopped:", type(exc).__name__)
        """
    )
    run = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert "stopped:" in run.stdout, run.stderr[-2000:]
    assert "DEBUG" not in run.stderr, run.stderr[:2000]

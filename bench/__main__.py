"""`make bench`: run every benchmark and write its results to bench/results/."""

from __future__ import annotations

import asyncio
import sys

from bench import (
    dedupe_independent,
    dedupe_scale,
    dedupe_splink,
    pipeline,
    publish_cost,
    registry_bulk,
    timer_scale,
    transfer_peers,
    transfer_timers,
)
from bench.blind import evaluate as dedupe_blind
from bench.sichuan import __main__ as dedupe_sichuan


def main() -> int:
    asyncio.run(pipeline.main(sys.argv[1:]))
    asyncio.run(publish_cost.main([]))  # the broker client's CPU a message, one by one and batched (issue 19)
    asyncio.run(transfer_timers.main([]))
    asyncio.run(transfer_peers.main([]))  # ours beside Flowable, interleaved; also writes transfer_throughput.json
    asyncio.run(timer_scale.main([]))
    dedupe_splink.main([])
    dedupe_independent.main([])  # R14 on the tuned and an independent labelled set, beside Splink (issue 16)
    dedupe_blind.main([])  # R14 on a third, blind set (bench/blind, written without reading the detector)
    dedupe_sichuan.main([])  # R14 on a fourth set (bench/sichuan, from the issue text, other province and names)
    asyncio.run(dedupe_scale.main([]))
    asyncio.run(registry_bulk.main(["--students", "100000", "--timeout", "3000"]))  # a province-sized intake
    return 0


if __name__ == "__main__":
    sys.exit(main())

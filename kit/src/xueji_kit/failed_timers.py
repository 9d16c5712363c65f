"""Timers whose every attempt failed (`TimerStore.park`): an SLA warning or breach, a review or compliance deadline,
a webhook retry that nobody would otherwise ever send. The scheduler parks each one, by its id, in the service's
`timers_failed` collection and counts it (`xueji_timers_failed_total`, alert `XuejiTimersFailed`). An operator
lists them and, after the fix, fires them again (armed due now under their own ids; firing is idempotent):

    python -m xueji_kit.failed_timers list --service transfer
    python -m xueji_kit.failed_timers refire --service transfer [--id <timer id> ...]

Run it where the service runs (same environment: MONGODB_URI, XUEJI_MONGODB_DATABASE). See docs/operations.md,
"Failed timers".
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from xueji_kit.operator_cli import not_found, parsed, service_database
from xueji_kit.timer_store import TimerStore


async def _run(args: argparse.Namespace) -> int:
    async with service_database(args.service) as db:
        timers = TimerStore(db)
        if args.command == "list":
            parked = await timers.parked()
            for doc in parked:
                due = f"due {doc['due_at']:%Y-%m-%d %H:%M:%S}"
                print(f"{doc['_id']}  {doc['kind']}  {due}  {doc['attempts']} attempts  "
                      f"{doc['error_type']}: {doc['error'][:200]}")  # fmt: skip
            if not parked:
                print(f"no failed timers in {db.name}")
            return 0
        armed = await timers.refire(args.id or None)
        for timer_id in armed:
            print(f"armed again {timer_id}")
        listing = f"python -m xueji_kit.failed_timers list --service {args.service}"
        return not_found(args.id, armed, "failed timer", db.name, listing)


def main(argv: list[str] | None = None) -> int:
    verbs = {"list": "show the failed timers", "refire": "arm them again, due now"}
    services = ["registry", "transfer", "dedupe", "notify"]
    return asyncio.run(_run(parsed("python -m xueji_kit.failed_timers", __doc__, verbs, "refire", services, argv)))


if __name__ == "__main__":
    sys.exit(main())

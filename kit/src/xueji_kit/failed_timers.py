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

from xueji_kit.settings import ServiceSettings
from xueji_kit.store import connect
from xueji_kit.timers import TimerStore


async def _run(args: argparse.Namespace) -> int:
    settings = ServiceSettings(service_name=args.service)
    client = connect(
        settings.mongodb_uri,
        timeout=settings.mongodb_timeout_seconds,
        connect_timeout=settings.mongodb_connect_timeout_seconds,
        socket_timeout=settings.mongodb_socket_timeout_seconds,
    )
    try:
        timers = TimerStore(client[settings.database_name])
        if args.command == "list":
            for doc in await timers.parked():
                due = f"due {doc['due_at']:%Y-%m-%d %H:%M:%S}"
                print(f"{doc['_id']}  {doc['kind']}  {due}  {doc['attempts']} attempts  "
                      f"{doc['error_type']}: {doc['error'][:200]}")  # fmt: skip
        else:
            for timer_id in await timers.refire(args.id or None):
                print(f"armed again {timer_id}")
    finally:
        await client.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m xueji_kit.failed_timers", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (("list", "show the failed timers"), ("refire", "arm them again, due now")):
        command = commands.add_parser(name, help=text)
        command.add_argument("--service", required=True, help="registry, transfer, dedupe or notify")
        if name == "refire":
            command.add_argument("--id", action="append", help="only this timer (repeatable)")
    return asyncio.run(_run(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())

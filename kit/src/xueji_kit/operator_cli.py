"""What the operators' commands share (`python -m xueji_kit.followups`, `python -m xueji_kit.failed_timers`): the
service's database as the service itself connects to it, and a command line of a few verbs, one of them acting on
all the items or on those named by `--id`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from pymongo.asynchronous.database import AsyncDatabase

from xueji_kit.settings import ServiceSettings
from xueji_kit.store import Document, connect


@asynccontextmanager
async def service_database(service: str) -> AsyncIterator[AsyncDatabase[Document]]:
    """The service's database, from the same environment the service reads (MONGODB_URI, XUEJI_MONGODB_DATABASE)."""
    settings = ServiceSettings(service_name=service)
    client = connect(
        settings.mongodb_uri,
        timeout=settings.mongodb_timeout_seconds,
        connect_timeout=settings.mongodb_connect_timeout_seconds,
        socket_timeout=settings.mongodb_socket_timeout_seconds,
    )
    try:
        yield client[settings.database_name]
    finally:
        await client.close()


def parsed(
    prog: str, doc: str, verbs: dict[str, str], acting: str, services: list[str], argv: list[str] | None
) -> argparse.Namespace:
    """`verbs` (name -> help) each take `--service` (one of `services`: a mistyped one would read another database,
    empty, and say nothing); the verb `acting` also takes `--id` (repeatable)."""
    parser = argparse.ArgumentParser(prog=prog, description=doc.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in verbs.items():
        command = commands.add_parser(name, help=text)
        whose = "whose database (its default name; XUEJI_MONGODB_DATABASE names another)"
        command.add_argument("--service", required=True, choices=services, help=whose)
        if name == acting:
            command.add_argument("--id", action="append", help="only this one (repeatable)")
    return parser.parse_args(argv)


def not_found(asked: list[str] | None, done: list[str], what: str, database: str, listing: str) -> int:
    """The exit status of an acting verb: 1, each named on stderr, when `--id` named something not there."""
    missing = [i for i in asked or [] if i not in done]
    for item in missing:
        print(f"no {what} {item} in {database}: `{listing}` shows what is there", file=sys.stderr)
    return 1 if missing else 0

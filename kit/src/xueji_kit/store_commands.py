"""Counting store commands (pymongo command monitoring): by scope, kind and collection, and which ones scan.

Used by tests and benchmarks, never on the serving path: `counting(database)` counts every command a process sends to
one database while it is open. A command is attributed to the scope the code that sent it runs in (`scope("apply")`,
a context variable, so a request's commands and a background task's are told apart), else to its asyncio task's name.

A command *scans* when its filter is not a single `_id` equality: FerretDB 1.x (the local store) serves only that
from an index and reads the whole collection for any other filter, `$in` on `_id` included; MongoDB would use an
index for more, but the hot path is held to what both serve in constant time.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import threading
from collections import Counter
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from pymongo import monitoring

_SCOPE: ContextVar[str | None] = ContextVar("store_scope", default=None)
# Handshakes, pings and session bookkeeping are the driver's own, not the service's work.
_DRIVER = frozenset({"hello", "ismaster", "isMaster", "ping", "endSessions", "buildInfo", "buildinfo", "saslStart",
                     "saslContinue", "getMore", "killCursors"})  # fmt: skip
_FILTERED = {"find": "filter", "count": "query", "distinct": "query", "findAndModify": "query"}


@contextlib.contextmanager
def scope(name: str) -> Iterator[None]:
    """Attribute the store commands sent inside this block (and the tasks it starts) to `name`."""
    token = _SCOPE.set(name)
    try:
        yield
    finally:
        _SCOPE.reset(token)


def is_id_equality(query: Any) -> bool:
    """True for `{"_id": <value>}` (or `{"_id": {"$eq": <value>}}`), with nothing else in the filter."""
    if not isinstance(query, dict) or set(query) != {"_id"}:
        return False
    value = query["_id"]
    if isinstance(value, dict):
        return set(value) == {"$eq"}
    return True


def filters_of(name: str, command: Mapping[str, Any]) -> list[Any]:
    """The filters a command selects documents by (one per statement of an update or delete); none for inserts."""
    if name in _FILTERED:
        return [command.get(_FILTERED[name]) or {}]
    if name == "update":
        return [u.get("q", {}) for u in command.get("updates", [])]
    if name == "delete":
        return [d.get("q", {}) for d in command.get("deletes", [])]
    if name == "aggregate":
        stages = command.get("pipeline", [])
        return [stages[0]["$match"] if stages and "$match" in stages[0] else {}]
    return []


def shape(query: Any) -> Any:
    """A filter with its values left out (`{"_id": {"$in": "?"}}`): what tells one kind of query from another."""
    if isinstance(query, dict):
        return {k: shape(v) if k.startswith("$") or isinstance(v, dict) else "?" for k, v in query.items()}
    return "?"


@dataclass(frozen=True)
class Command:
    scope: str
    kind: str
    collection: str
    statements: int  # documents inserted, or statements of an update or delete; 1 otherwise
    scans: bool
    filter: str


@dataclass
class CommandLog:
    """Every command one database received while counting, in order."""

    database: str
    commands: list[Command] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, command: Command) -> None:
        with self._lock:
            self.commands.append(command)

    def of(self, scope_name: str) -> list[Command]:
        return [c for c in self.commands if c.scope == scope_name]

    def take(self, scope_name: str) -> list[Command]:
        """The commands of one scope, removed from the log (so a scope name can be used again)."""
        with self._lock:
            mine = [c for c in self.commands if c.scope == scope_name]
            self.commands = [c for c in self.commands if c.scope != scope_name]
        return mine

    def clear(self) -> None:
        with self._lock:
            self.commands = []


def collection_kind(name: str) -> str:
    """A collection's name with what varies per instance folded: `timers_m29031360` is `timers_m<minute>`."""
    return re.sub(r"^timers_m\d+$", "timers_m<minute>", name)


def tally(commands: list[Command]) -> dict[str, int]:
    """`{"insert events": 1, "find events_outbox": 2, ...}`: commands by kind and collection."""
    return dict(sorted(Counter(f"{c.kind} {collection_kind(c.collection)}" for c in commands).items()))


def scans(commands: list[Command]) -> list[str]:
    return [f"{c.kind} {c.collection} {c.filter}" for c in commands if c.scans]


class _Listener(monitoring.CommandListener):
    """The one process-wide listener; it hands each command to the logs open for its database."""

    def __init__(self) -> None:
        self.logs: dict[str, list[CommandLog]] = {}

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        logs = self.logs.get(event.database_name)
        if not logs or event.command_name in _DRIVER:
            return
        cmd = event.command
        name = event.command_name
        filters = filters_of(name, cmd)
        if name == "insert":
            statements = len(cmd.get("documents", []))
        elif name in ("update", "delete"):
            statements = len(filters)
        else:
            statements = 1
        collection = cmd.get(name)
        entry = Command(
            scope=_SCOPE.get() or _task_name(),
            kind=name,
            collection=collection if isinstance(collection, str) else "",
            statements=statements,
            scans=any(not is_id_equality(f) for f in filters),
            filter=repr(shape(filters[0]))[:200] if filters else "",
        )
        for log in logs:
            log.add(entry)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


def _task_name() -> str:
    try:
        task = asyncio.current_task()
    except RuntimeError:
        return "-"
    return task.get_name() if task is not None else "-"


_LISTENER: _Listener | None = None


def _listener() -> _Listener:
    """Registered once per process; it applies to clients created after registration."""
    global _LISTENER
    if _LISTENER is None:
        _LISTENER = _Listener()
        monitoring.register(_LISTENER)
    return _LISTENER


def install() -> None:
    """Register the listener now, before the clients to be observed are created."""
    _listener()


@contextlib.contextmanager
def counting(database: str) -> Iterator[CommandLog]:
    """Log the commands sent to `database` by clients created after `install()` (or inside this block)."""
    listener = _listener()
    log = CommandLog(database)
    listener.logs.setdefault(database, []).append(log)
    try:
        yield log
    finally:
        listener.logs[database].remove(log)
        if not listener.logs[database]:
            del listener.logs[database]

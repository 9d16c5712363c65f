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
from collections import Counter, defaultdict
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
    # Seconds the store took to answer, by kind, collection and filter shape (`answered`): where its time goes.
    seconds: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    returned: Counter[str] = field(default_factory=Counter)  # documents the store sent back (every batch of a cursor)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, command: Command) -> None:
        with self._lock:
            self.commands.append(command)

    def answered(self, command: Command, seconds: float, documents: int) -> None:
        key = f"{command.kind} {collection_kind(command.collection)} {command.filter}"
        with self._lock:
            self.seconds[key] += seconds
            self.returned[key] += documents

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
            self.seconds.clear()
            self.returned.clear()


def collection_kind(name: str) -> str:
    """A collection's name with what varies per instance folded: `timers_m29031360` is `timers_m<minute>`."""
    return re.sub(r"^timers_m\d+$", "timers_m<minute>", name)


def tally(commands: list[Command]) -> dict[str, int]:
    """`{"insert events": 1, "find events_outbox": 2, ...}`: commands by kind and collection."""
    return dict(sorted(Counter(f"{c.kind} {collection_kind(c.collection)}" for c in commands).items()))


def scans(commands: list[Command]) -> list[str]:
    return [f"{c.kind} {c.collection} {c.filter}" for c in commands if c.scans]


class _Listener(monitoring.CommandListener):
    """The one process-wide listener; it hands each command to the logs open for its database, and its answer's time
    and documents too. A cursor's further batches (getMore) count for the command that opened it."""

    def __init__(self) -> None:
        self.logs: dict[str, list[CommandLog]] = {}
        self._asked: dict[int, tuple[Command, list[CommandLog], int]] = {}  # by request id (and the cursor read)
        self._cursors: dict[int, tuple[Command, list[CommandLog]]] = {}  # by cursor id, while open

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        cmd = event.command
        name = event.command_name
        if name == "getMore" and (opened := self._cursors.get(cmd.get("getMore", 0))) is not None:
            self._asked[event.request_id] = (*opened, cmd["getMore"])
            return
        if name == "killCursors":
            for cursor_id in cmd.get("cursors", []):
                self._cursors.pop(cursor_id, None)
        logs = self.logs.get(event.database_name)
        if not logs or name in _DRIVER:
            return
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
        self._asked[event.request_id] = (entry, list(logs), 0)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        if (asked := self._asked.pop(event.request_id, None)) is None:
            return
        command, logs, read = asked
        cursor = event.reply.get("cursor")
        documents = 0
        if isinstance(cursor, Mapping):
            documents = len(cursor.get("firstBatch") or cursor.get("nextBatch") or [])
            if cursor.get("id"):
                self._cursors[cursor["id"]] = (command, logs)
            else:
                self._cursors.pop(read, None)  # exhausted
        for log in logs:
            log.answered(command, event.duration_micros / 1e6, documents)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        if (asked := self._asked.pop(event.request_id, None)) is not None:
            command, logs, read = asked
            self._cursors.pop(read, None)
            for log in logs:
                log.answered(command, event.duration_micros / 1e6, 0)


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

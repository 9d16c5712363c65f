"""Telling the relay's follower (follow_ups.CommitFollower) which commits this process already followed up."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterable, Iterator

import structlog

from xueji_kit.followed import FollowedHere
from xueji_kit.store import commit_key, store_away

log = structlog.get_logger("registry.followed")


def followed_here(here: FollowedHere, commits: Iterable[tuple[str, int]]) -> None:
    """Tell the follower that the follow-ups of these commits (aggregate, version) are done."""
    here.add(commit_key(aggregate, version) for aggregate, version in commits)


class Following:
    """Commits whose follow-ups this process is doing at once right now (a class's new records): the relay's follower,
    handed their outbox entry meanwhile, waits for them and then skips those followed here, instead of reading their
    streams to do the same work beside them. A crash ends the wait with the process; the restarted relay follows."""

    def __init__(self) -> None:
        self._busy: dict[str, asyncio.Event] = {}

    @contextlib.contextmanager
    def at_once(self, commits: Iterable[tuple[str, int]]) -> Iterator[None]:
        keys = [commit_key(aggregate, version) for aggregate, version in commits]
        done = asyncio.Event()
        self._busy |= dict.fromkeys(keys, done)
        try:
            yield
        finally:
            for key in keys:
                if self._busy.get(key) is done:
                    del self._busy[key]
            done.set()

    async def finished(self, keys: Iterable[str]) -> None:
        for done in {id(e): e for key in keys if (e := self._busy.get(key)) is not None}.values():
            await done.wait()


class FollowUpsBehind:
    """A class's follow-ups (register, deadline timers, rosters) done behind the batch that committed its records,
    while the next batch is decided: the verdict handler's store round trips were its whole critical path, one batch
    after another, with the registry and the store each idle half of the time (bulk import, issue 19). One batch's
    follow-ups at a time: the next batch's wait for the previous ones before it starts its own.

    Nothing is weakened: the records are committed before the handler answers; the relay's follower waits for the
    commits followed up here (`Following`) and does the follow-ups itself when they failed or a crash cut them."""

    def __init__(self) -> None:
        self._running: asyncio.Task[None] | None = None

    async def start(self, follow_ups: Callable[[], Awaitable[None]], busy: contextlib.ExitStack) -> None:
        """Run `follow_ups` behind the caller, inside `busy` (the commits' `Following.at_once`), once the previous
        batch's are done."""
        try:
            await self.finished()
        except BaseException:
            busy.close()  # cancelled while waiting: the relay's follower must not wait for follow-ups never run
            raise
        self._running = asyncio.create_task(self._run(follow_ups, busy), name="follow_ups_behind")

    async def finished(self) -> None:
        """The follow-ups under way, done (a stop awaits them while the store is still there)."""
        running = self._running
        if running is not None:
            await asyncio.shield(running)  # a waiter cancelled (a stopping consumer) leaves them running
            if self._running is running:
                self._running = None

    @staticmethod
    async def _run(follow_ups: Callable[[], Awaitable[None]], busy: contextlib.ExitStack) -> None:
        with busy:
            try:
                await follow_ups()
            except Exception as exc:  # the relay's follower does them from the commits
                log.warning("follow_ups_left_to_the_relay", error_type=type(exc).__name__, error=str(exc)[:500],
                            store_away=store_away(exc))  # fmt: skip

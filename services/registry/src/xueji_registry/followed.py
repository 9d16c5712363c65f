"""Telling the relay's follower (follow_ups.CommitFollower) which commits this process already followed up."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterable, Iterator

import structlog

from xueji_kit.commit_documents import commit_key
from xueji_kit.followed import FollowedHere
from xueji_kit.store import store_away

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
    """A class's commits and follow-ups (register, deadline timers, rosters) done behind the batch that decided its
    records, while the next batch is decided: the verdict handler's store round trips were its whole critical path, one
    batch after another, with the registry and the store each idle half of the time (bulk import, issue 19). One
    batch's commits at a time and one batch's follow-ups at a time, each in the batches' order; a batch's commits run
    while the batch before it follows up (one after the other, that chain set the pace of an import's last stretch).
    So at most two batches are behind the handler: `start` waits for the commits of the one before and for all of the
    one before that.

    Nothing is weakened: a batch's offsets are committed only once its records are stored (the caller hands the
    future `start` returns to the consumer's committer; a failure rewinds the consumer and the batch is consumed
    again); the relay publishes a commit's messages only once it is stored; the relay's follower waits for the commits
    followed up here (`Following`) and does the follow-ups itself when they failed or a crash cut them."""

    # After commits behind a batch failed, the next batches commit in line (`commits_behind`): the consumer is rewound
    # at once, so the failed one comes again within two, and a failure that is not a store outage then reaches the
    # batch handler, which handles the batch one message at a time (each in line: `intake.complete`) and dead-letters
    # the one that fails, instead of its batch being consumed again and again.
    IN_LINE_AFTER_FAILURE = 3
    # While the store is away, commits behind a batch are tried again (as the dead-letter middleware waits out an
    # outage for a batch handled in line), every BACKOFF * 2**attempt seconds, at most every BACKOFF_MAX. A stop
    # waits for them at most STOP_PATIENCE seconds, then leaves them: the batch's offsets were not committed, so it is
    # consumed again after the restart (each record and its messages stored once: `start_many` is idempotent).
    BACKOFF = 0.2
    BACKOFF_MAX = 10.0
    STOP_PATIENCE = 20.0

    def __init__(self) -> None:
        self._running: asyncio.Task[None] | None = None  # the last batch's commits and follow-ups
        self._storing: asyncio.Event | None = None  # set once the last batch's commits are done (or given up)
        self._before: asyncio.Task[None] | None = None  # the batch before the last, following up
        self._in_line = 0

    def commits_behind(self) -> bool:
        """Whether the next batch may commit its records behind it (not for a few batches after a failure)."""
        if self._in_line > 0:
            self._in_line -= 1
            return False
        return True

    async def start(
        self,
        follow_ups: Callable[[], Awaitable[None]],
        busy: contextlib.ExitStack,
        commits: Callable[[], Awaitable[None]] | None = None,
    ) -> asyncio.Future[None]:
        """Run `commits` (if any), then `follow_ups`, behind the caller, inside `busy` (the commits'
        `Following.at_once`), once the previous batch's commits and everything of the batch before it are done; the
        follow-ups after the previous batch's. The future is the commits' outcome; the follow-ups run only after the
        commits succeeded. (A batch whose commits failed follows nothing up; the next one still waited for the batch
        before it, so follow-ups never overlap.)"""
        try:
            if self._storing is not None:
                await self._storing.wait()
            if self._before is not None:
                await asyncio.shield(self._before)
        except BaseException:
            busy.close()  # cancelled while waiting: the relay's follower must not wait for follow-ups never run
            raise
        committed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        storing, before = asyncio.Event(), self._running
        run = self._run(commits, follow_ups, busy, committed, storing, before)
        task = asyncio.create_task(run, name="follow_ups_behind")
        self._running, self._storing, self._before = task, storing, before
        return committed

    def _under_way(self) -> list[asyncio.Task[None]]:
        return [task for task in (self._before, self._running) if task is not None and not task.done()]

    async def finished(self) -> None:
        """The commits and follow-ups under way, done (a stop awaits them while the store is still there)."""
        if under_way := self._under_way():
            await asyncio.shield(asyncio.gather(*under_way))  # a waiter cancelled (a stopping consumer) leaves them

    async def stop(self) -> None:
        """For a stopping service: `finished`, at most STOP_PATIENCE seconds (the store may be away), then cancelled."""
        if not (under_way := self._under_way()):
            return
        try:
            await asyncio.wait_for(asyncio.shield(asyncio.gather(*under_way)), self.STOP_PATIENCE)
        except TimeoutError:
            for task in under_way:
                task.cancel()
            log.warning("commits_behind_left_to_a_redelivery", waited_s=self.STOP_PATIENCE)
            await asyncio.gather(*under_way, return_exceptions=True)

    async def _stored(self, commits: Callable[[], Awaitable[None]]) -> None:
        attempt = 0
        while True:
            try:
                return await commits()
            except Exception as exc:
                if not store_away(exc):
                    raise
                attempt += 1
                log.warning("commits_behind_waiting_for_the_store", attempt=attempt, error=str(exc)[:300])
                await asyncio.sleep(min(self.BACKOFF * 2**attempt, self.BACKOFF_MAX))

    async def _run(
        self,
        commits: Callable[[], Awaitable[None]] | None,
        follow_ups: Callable[[], Awaitable[None]],
        busy: contextlib.ExitStack,
        committed: asyncio.Future[None],
        storing: asyncio.Event,
        before: asyncio.Task[None] | None,
    ) -> None:
        with busy:
            try:
                if commits is not None:
                    await self._stored(commits)
            except asyncio.CancelledError:
                committed.cancel()  # a stop left them: the batch's offsets are not committed
                raise
            except Exception as exc:  # the consumer's committer rewinds: the batch is consumed again
                self._in_line = self.IN_LINE_AFTER_FAILURE
                log.warning("commits_behind_failed", error_type=type(exc).__name__, error=str(exc)[:500])
                committed.set_exception(exc)
                return
            finally:
                storing.set()
            committed.set_result(None)
            if before is not None:
                await asyncio.shield(before)  # the batch before follows up first
            try:
                await follow_ups()
            except Exception as exc:  # the relay's follower does them from the commits
                log.warning("follow_ups_left_to_the_relay", error_type=type(exc).__name__, error=str(exc)[:500],
                            store_away=store_away(exc))  # fmt: skip

"""Telling the relay's follower (follow_ups.CommitFollower) which commits this process already followed up."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable, Iterator

from xueji_kit.followed import FollowedHere
from xueji_kit.store import commit_key


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

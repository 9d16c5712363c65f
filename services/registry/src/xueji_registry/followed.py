"""Which commits this process has already followed up at once (on the request path), so the relay's follower
(follow_ups.CommitFollower) can skip them: a memory only, never the reason a follow-up is done."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable

from xueji_kit.runtime import ServiceRuntime
from xueji_kit.store import commit_key


class FollowedHere:
    """Commit keys whose follow-ups ran in this process. Lost in a crash, and bounded: a key it forgot (or never
    heard of, the commit of another replica) is followed again, which the idempotent follow-ups allow."""

    def __init__(self, size: int = 50_000) -> None:
        self.size = size
        self._keys: OrderedDict[str, None] = OrderedDict()

    def add(self, keys: Iterable[str]) -> None:
        for key in keys:
            self._keys[key] = None
        while len(self._keys) > self.size:
            self._keys.popitem(last=False)

    def take(self, key: str) -> bool:
        """True (and forgotten) when the commit was followed here."""
        return self._keys.pop(key, False) is None


def followed_here(runtime: ServiceRuntime, commits: Iterable[tuple[str, int]]) -> None:
    """Tell the follower that the follow-ups of these commits (aggregate, version) are done."""
    found = runtime.broker.context.get("followed_here")
    if isinstance(found, FollowedHere):
        found.add(commit_key(aggregate, version) for aggregate, version in commits)

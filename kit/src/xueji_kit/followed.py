"""Which commits this process has already followed up at once (on the request path), so a relay follower can skip
them: a memory only, never the reason a follow-up is done."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable


class FollowedHere:
    """Commit keys whose follow-ups ran in this process. Lost in a crash, and bounded: a key it forgot (or never
    heard of, the commit of another replica) is followed again, which idempotent follow-ups allow."""

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

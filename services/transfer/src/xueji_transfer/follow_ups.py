"""Every follow-up of a transfer commit, driven from the committed streams (issue 15, defect 1).

The relay hands this follower each outbox entry it published, before deleting it; the follower settles the case's
SLA timers and inbox filings from the stream as stored (TransferService.follow). The request and message paths
settle at once, so an answer (and a read right after it) sees them, and say so (FollowedHere): those commits are
skipped here. After a crash between a commit and its settle the entry is still in the outbox, and the restarted
relay follows it, so a stuck case no longer waits for a client retry with the same Idempotency-Key. Settling is
idempotent (insert-once arms, ends and filings): a commit followed twice (another replica's, a forgotten one)
changes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Protocol

from xueji_kit.followed import FollowedHere
from xueji_kit.store import Document

# Streams in the case store that are not cases: mirrors of other provinces' cases and the holiday notices loaded here
# (calendar_notices) settle nothing here.
NOT_CASES = ("mirror:", "calendar:")


class Follows(Protocol):
    here: FollowedHere

    async def follow(self, transfer_id: str, versions: set[int]) -> None: ...


class CommitFollower:
    def __init__(self, service: Follows) -> None:
        self.service = service

    async def __call__(self, entries: list[Document]) -> None:
        versions: dict[str, set[int]] = defaultdict(set)
        for entry in entries:
            for key in entry.get("committed", []):
                aggregate, _, version = str(key).rpartition("@")
                if aggregate.startswith(NOT_CASES) or self.service.here.take(str(key)):
                    continue
                versions[aggregate].add(int(version))
        for transfer_id, followed in versions.items():
            await self.service.follow(transfer_id, followed)

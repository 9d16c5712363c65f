"""Identity feed -> this replica's in-memory index. Every replica reads every partition (no consumer group),
from the beginning at start-up, on top of the stored copy it loaded: versions make the replay a no-op
for what it already holds. Malformed messages are skipped here; the persisting consumer dead-letters them."""

from __future__ import annotations

from faststream import Context
from pydantic import ValidationError

from xueji_dedupe.feed import parse_identity, update_of
from xueji_dedupe.index_store import IndexKeeper


async def raw_bodies(msg: object, original: object = None) -> object:
    """Hand the follower the batch's raw bytes: it validates each one itself and skips what fails."""
    return getattr(msg, "body", msg)


async def follow_identities(bodies: list[bytes], keeper: IndexKeeper = Context("keeper")) -> None:
    for body in bodies:
        try:
            message = parse_identity(body)
            if message is not None:
                keeper.apply(update_of(message))
        except (ValidationError, ValueError):
            continue

"""Telling the relay's follower (follow_ups.CommitFollower) which commits this process already followed up."""

from __future__ import annotations

from collections.abc import Iterable

from xueji_kit.followed import FollowedHere
from xueji_kit.store import commit_key


def followed_here(here: FollowedHere, commits: Iterable[tuple[str, int]]) -> None:
    """Tell the follower that the follow-ups of these commits (aggregate, version) are done."""
    here.add(commit_key(aggregate, version) for aggregate, version in commits)

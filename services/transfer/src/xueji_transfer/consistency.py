"""The consistency checker of the transfer service: replays every case stream and names each place where the stored
projections differ from it (issue 15; used by the crash tests and by operators after an incident). A stream must be
gapless; the inbox filings (`cases`) must be the jurisdictions asked of after each commit, as settling files them; no
stage timer may stay armed for a stage that is no longer open. Reads every commit once: an administration tool, not
a request path."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from xueji_kit.event_store import EventStore
from xueji_kit.store import Document
from xueji_kit.timers import TimerStore
from xueji_transfer import inbox
from xueji_transfer.domain import TransferCase, from_documents, replay
from xueji_transfer.domain.events import is_case_event
from xueji_transfer.follow_ups import NOT_CASES


@dataclass(frozen=True)
class Difference:
    projection: str  # "case_stream", "inbox" or "stage_timers"
    subject: str  # the transfer id
    expected: Any
    found: Any


@dataclass(frozen=True)
class Replayed:
    """One case as its stream says it is, and the commits it was made of."""

    case: TransferCase | None
    commits: list[Document]


async def cases(events: EventStore, transfer_ids: Iterable[str] | None = None) -> dict[str, Replayed]:
    """Every case stream (or those named), replayed; streams that are not cases (mirrors, R27 exceptions) are left."""
    query: Document = {} if transfer_ids is None else {"aggregate_id": {"$in": list(transfer_ids)}}
    streams: dict[str, list[Document]] = defaultdict(list)
    async for commit in events.every_commit(query):
        aggregate = str(commit.get("aggregate_id", ""))
        if not aggregate.startswith(NOT_CASES) and all(is_case_event(e) for e in commit["events"]):
            streams[aggregate].append(commit)
    found = {}
    for transfer_id, commits in streams.items():
        commits.sort(key=lambda c: int(c["version"]))
        found[transfer_id] = Replayed(replay(from_documents([e for c in commits for e in c["events"]])), commits)
    return found


async def differences(events: EventStore, province: str, transfer_ids: Iterable[str] | None = None) -> list[Difference]:
    """Every difference between the stored projections and the case streams (empty: consistent)."""
    db = events.collection.database
    replayed = await cases(events, transfer_ids)
    filed: dict[str, set[str]] = defaultdict(set)
    async for entry in db["cases"].find({"transfer_id": {"$in": list(replayed)}}, {"transfer_id": 1, "code": 1}):
        filed[entry["transfer_id"]].add(entry["code"])
    armed: dict[str, list[Document]] = defaultdict(list)
    for timer in await TimerStore(db).armed():
        if (timer.get("data") or {}).get("stage"):
            armed[str(timer["aggregate_id"])].append(timer)
    found = []
    for transfer_id, replayed_case in replayed.items():
        case, commits = replayed_case.case, replayed_case.commits
        versions = [int(c["version"]) for c in commits]
        if versions != list(range(1, len(versions) + 1)):
            found.append(Difference("case_stream", transfer_id, "versions 1..n", versions))
        asked = _asked(commits, province)
        if asked != filed.get(transfer_id, set()):
            found.append(Difference("inbox", transfer_id, sorted(asked), sorted(filed.get(transfer_id, set()))))
        open_stage = case.open_stage.stage.value if case is not None and case.open_stage is not None else None
        stale = sorted(t["_id"] for t in armed.get(transfer_id, []) if t["data"]["stage"] != open_stage)
        if stale:
            found.append(Difference("stage_timers", transfer_id, f"armed only for {open_stage}", stale))
    return found


def _asked(commits: list[Document], province: str) -> set[str]:
    """The jurisdictions asked of after each commit (settling files each and removes none)."""
    history: list[Document] = []
    asked: set[str] = set()
    for commit in commits:
        history += commit["events"]
        state = replay(from_documents(history))
        asked |= {t["code"] for t in inbox.todos(state, province)} if state else set()
    return asked

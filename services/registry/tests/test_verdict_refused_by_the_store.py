"""A verdict whose record the store refuses (not an outage) is dead-lettered with its reason, and the rest of its batch
is stored: it does not bring its batch back again and again (issue 19's commits behind the batch, kit/batches.py).

The batch handler, the verdict handler's choice between storing behind and in line, and `FollowUpsBehind` are the
real ones; the deciding that reads the store (pending requests, counters, the domain) is stood in for, and the
store's `start_many` refuses one student's record. Each delivery is what the consumer does: the batch again until its
offsets may be committed."""

from __future__ import annotations

import asyncio
from functools import partial
from types import SimpleNamespace
from typing import Any

import pytest

from xueji_contracts.messages.dedupe import CheckPurpose
from xueji_kit.batches import handle_batch
from xueji_registry.enrollment import intake
from xueji_registry.followed import Following, FollowUpsBehind
from xueji_registry.handlers.verdict import answer_verdicts

TOPIC = "dedupe.verdict.v1"


class Letters:
    """The broker, as the dead-letter path uses it: what was dead-lettered, by offset."""

    def __init__(self) -> None:
        self.offsets: list[int] = []

    async def publish(self, body: Any, topic: str, **_: Any) -> None:
        assert topic.endswith(".dlq")
        self.offsets.append(body["offset"])


class Records:
    """The store's records: `start_many` refuses any batch holding the refused student's."""

    def __init__(self, refused: str, error: type[Exception]) -> None:
        self.refused, self.error = refused, error
        self.stored: set[str] = set()

    async def start_many(self, streams: list[Any], now: Any) -> list[bool]:
        if any(s.aggregate_id == self.refused for s in streams):
            raise self.error(f"{self.refused}: a record the store refuses")
        self.stored.update(s.aggregate_id for s in streams)
        return [True] * len(streams)


@pytest.fixture(autouse=True)
def decided_without_the_store(monkeypatch: pytest.MonkeyPatch) -> None:
    async def pending(_: Any, verdicts: list[Any]) -> list[Any]:
        return [SimpleNamespace(verdict=v, commit_id=f"enroll-{v.student}", student_id=v.student) for v in verdicts]

    async def not_refused(*_: Any) -> bool:
        return True

    async def counters(_: Any, waiting: list[Any]) -> list[int]:
        return list(range(len(waiting)))

    monkeypatch.setattr(intake, "_once_per_student", lambda verdicts: verdicts)
    monkeypatch.setattr(intake, "_pending", pending)
    monkeypatch.setattr(intake, "_not_refused_as_duplicate", not_refused)
    monkeypatch.setattr(intake, "_counters", counters)
    monkeypatch.setattr(intake, "_enroll", lambda pending, counter: pending)
    monkeypatch.setattr(intake, "handle", lambda pending, *_: (SimpleNamespace(student_id=pending.student_id), []))
    monkeypatch.setattr(intake, "to_documents", lambda events: [])
    monkeypatch.setattr(intake, "_messages", lambda *_: [])


def _registry(records: Records) -> Any:
    async def follow_changes(*_: Any) -> None:
        return None

    return SimpleNamespace(
        rules=SimpleNamespace(layout=None), sequences=None, events=records, behind=FollowUpsBehind(),
        following=Following(), runtime=SimpleNamespace(relay=SimpleNamespace(nudge=lambda: None)),
        follow_changes=follow_changes, followed=lambda _: None,
    )  # fmt: skip


async def _delivered_until_committed(refused_at: int, error: type[Exception], size: int = 5) -> tuple[int, Any, Any]:
    students = [f"stu_{n}" for n in range(size)]
    records, letters = Records(students[refused_at], error), Letters()
    registry = _registry(records)
    verdicts = [SimpleNamespace(student=s, payload=SimpleNamespace(purpose=CheckPurpose.CREATION)) for s in students]
    raw = [SimpleNamespace(topic=TOPIC, partition=0, offset=n, key=None, value=b"{}", headers=[]) for n in range(size)]
    for delivery in range(1, 7):
        message = SimpleNamespace(rejected=[], parsed_records=raw, consumer=SimpleNamespace(_group_id="registry"))
        committed: list[Any] = []
        await handle_batch(letters, message, verdicts, partial(answer_verdicts, registry, committed=committed), 0)
        outcomes = await asyncio.gather(*committed, return_exceptions=True)  # what the committer waits for
        await registry.behind.finished()
        if not any(isinstance(o, BaseException) for o in outcomes):
            return delivery, letters.offsets, records.stored
    return 0, letters.offsets, records.stored


@pytest.mark.parametrize("refused_at", [0, 2, 4])
@pytest.mark.parametrize("error", [ValueError, RuntimeError], ids=["permanent", "not-permanent"])
async def test_a_verdict_whose_record_the_store_refuses_is_dead_lettered_and_the_others_stored(refused_at, error):
    deliveries, dead_lettered, stored = await _delivered_until_committed(refused_at, error)
    assert deliveries, "the batch came back again and again"
    assert deliveries <= 3, "it comes again within the batches behind the handler"
    assert dead_lettered == [refused_at]
    assert stored == {f"stu_{n}" for n in range(5)} - {f"stu_{refused_at}"}


async def test_a_single_verdict_is_stored_before_its_handler_returns():
    records = Records("nobody", ValueError)
    registry = _registry(records)
    verdict = SimpleNamespace(student="stu_9", payload=SimpleNamespace(purpose=CheckPurpose.CREATION))
    committed: list[Any] = []
    await answer_verdicts(registry, [verdict], committed)
    assert records.stored == {"stu_9"}

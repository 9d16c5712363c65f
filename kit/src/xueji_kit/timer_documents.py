"""A timer, its due minute and its ids, and the documents that file it in its minute's collection (`timers_m<minute>`):
the timer armed, the note that reopens a past minute for it, its end and its retries."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from xueji_kit.store import Document

MINUTE = 60


def minute_of(at: datetime) -> int:
    return int(at.timestamp()) // MINUTE


@dataclass(frozen=True)
class Timer:
    timer_id: str
    kind: str
    aggregate_id: str
    due_at: datetime
    data: dict[str, Any]


Fire = Callable[[Timer], Awaitable[None]]


def plain_id(timer_id: str) -> str:
    """The service's own timer id from the scheduler's `{minute}|{timer_id}`."""
    return _split(timer_id)[1]


def _split(timer_id: str) -> tuple[int, str]:
    minute, _, plain = timer_id.partition("|")
    return int(minute), plain


def _timer(doc: Document) -> Timer:
    return Timer(doc["_id"], doc["kind"], doc["aggregate_id"], doc["due_at"], doc.get("data", {}))


def _armed(timer: Timer) -> Document:
    if timer.due_at.tzinfo is None:
        raise ValueError("due_at must be timezone-aware")
    return {"_id": timer.timer_id, "kind": timer.kind, "aggregate_id": timer.aggregate_id,
            "due_at": timer.due_at.astimezone(UTC), "data": timer.data}  # fmt: skip


def _note(timer: Timer) -> Document:
    """The note that reopens a past minute for a timer armed after it: which minute, and the timer as filed there."""
    due_minute = minute_of(timer.due_at)
    return {"_id": f"late:{due_minute}|{timer.timer_id}", "reopens": due_minute, "timer": _armed(timer)}


def _end_doc(plain: str, state: str) -> Document:
    return {"_id": f"end:{plain}", "end": True, "timer_id": plain, "state": state}


def _retry_doc(plain: str, attempt: int, not_before: datetime) -> Document:
    return {"_id": f"retry:{plain}:{attempt}", "retry": True, "timer_id": plain, "attempt": attempt,
            "not_before": not_before}  # fmt: skip

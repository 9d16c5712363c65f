"""A pair of records the county reviews (R14, R50): the cases opened for the two records, and the county's finding that
they are different persons, which stands for the pair. A later "possible duplicate" naming the same two records (the
national tier's, or the province's own again) opens no second case; a case of the pair opened before the finding is
decided with it. Only the same valid ID number refuses outright (R14), whatever the county found.

The pair has a stream of its own, named by both student ids in either order, read by `_id` alone."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Event = dict[str, Any]


def pair_stream(student_id: str, candidate_id: str) -> str:
    first, second = sorted((student_id, candidate_id))
    return f"pair:{first}|{second}"


@dataclass(frozen=True, slots=True)
class PairState:
    cases: tuple[str, ...] = ()  # every case opened for the pair, first first
    cleared: Event | None = None  # PairCleared: the county found two different persons


def pair_state(history: list[Event]) -> PairState:
    cases = tuple(dict.fromkeys(e["case_id"] for e in history if e["type"] == "PairCaseOpened"))
    cleared = next((e for e in history if e["type"] == "PairCleared"), None)
    return PairState(cases=cases, cleared=cleared)


def decide_case_noted(history: list[Event], case_id: str, at: str) -> list[Event]:
    """A case opened for the pair is noted once."""
    if case_id in pair_state(history).cases:
        return []
    return [{"type": "PairCaseOpened", "case_id": case_id, "at": at}]


def decide_cleared(
    history: list[Event], case_id: str, by: Event, county_code: str, reason: str, at: str
) -> list[Event]:
    """The first county decision "different person" on a case of the pair clears it; a later one adds nothing."""
    if pair_state(history).cleared is not None:
        return []
    cleared = {"case_id": case_id, "by": by, "county_code": county_code, "reason": reason, "at": at}
    return [{"type": "PairCleared", **cleared}]


def cleared_reason(case_id: str) -> tuple[str, str]:
    """What an answer says of a record the county already found a different person (zh, en)."""
    return f"县级审核（{case_id}）已认定非同一人", f"the county's review {case_id} found a different person"

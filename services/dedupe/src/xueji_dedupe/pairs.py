"""The pairs of records the county reviewed (R14, R50), each in its own stream (`domain.pairs`): which cases were opened
for two records, and whether the county found them different persons. Read by `_id` alone (the stream's commits)."""

from __future__ import annotations

from datetime import UTC, datetime

from xueji_dedupe.domain.pairs import Event, PairState, decide_case_noted, decide_cleared, pair_state, pair_stream
from xueji_kit.aggregates import Decision, decide_and_save
from xueji_kit.runtime import ServiceRuntime


class ReviewedPairs:
    def __init__(self, runtime: ServiceRuntime) -> None:
        self.runtime = runtime

    async def state(self, student_id: str, candidate_id: str) -> PairState:
        return pair_state(await self.runtime.events.events_of(pair_stream(student_id, candidate_id)))

    async def cleared(self, student_id: str, candidate_id: str) -> Event | None:
        """The county's finding that the two are different persons, if it made one."""
        return (await self.state(student_id, candidate_id)).cleared

    async def note(self, case_id: str, student_id: str, candidate_id: str) -> PairState:
        """A case opened for the pair, noted once; the pair as it is then (cleared meanwhile: the case goes with it)."""
        at = datetime.now(UTC).isoformat()
        stream = pair_stream(student_id, candidate_id)
        await decide_and_save(
            self.runtime.events, stream, f"opened:{case_id}", lambda h: Decision(decide_case_noted(h, case_id, at))
        )
        return await self.state(student_id, candidate_id)

    async def clear(
        self, case_id: str, student_id: str, candidate_id: str, *, by: Event, county_code: str, reason: str
    ) -> PairState:
        """The county found the two different persons in `case_id` (the first such finding stands); the pair then,
        with every case opened for it, to be decided alike."""
        at = datetime.now(UTC).isoformat()
        stream = pair_stream(student_id, candidate_id)

        def decide(history: list[Event]) -> Decision:
            return Decision(decide_cleared(history, case_id, by, county_code, reason, at))

        await decide_and_save(self.runtime.events, stream, f"cleared:{case_id}", decide)
        return await self.state(student_id, candidate_id)

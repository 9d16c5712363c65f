"""The county review queue (R14, R50): cases as a projection of the check streams, and the county's decision.

The stream is the permanent record (who decided, when, why); `review_cases` is a read model rebuilt
from it after every change, so a crash between the two is repaired by the next write or a redelivery.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import structlog
from pymongo import ASCENDING

from xueji_contracts.auth import OperatorClaims
from xueji_contracts.envelope import envelop
from xueji_contracts.messages.dedupe_review import ReviewCaseDecided, ReviewDecision
from xueji_contracts.topics import DEDUPE_REVIEW
from xueji_dedupe.domain.pairs import cleared_reason
from xueji_dedupe.domain.review import Event, ReviewRefused, decide_review, state_of, stream_of_case
from xueji_dedupe.pairs import ReviewedPairs
from xueji_kit.aggregates import Decision, decide_and_save
from xueji_kit.outbox_entries import Outgoing
from xueji_kit.runtime import ServiceRuntime
from xueji_kit.store import Document, replace_by_id

log = structlog.get_logger("dedupe.review")
Position = tuple[str, str]  # a case's place in the queue's order: (opened_at, case id)


def queue_time(opened_at: str) -> str:
    """`opened_at` as the queue stores and compares it: UTC with microseconds always, so its text order is time
    order. The contract's JSON form leaves out a zero fraction, and "08:00:00Z" sorted after "08:00:00.25Z"."""
    at = datetime.fromisoformat(opened_at)
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return at.isoformat(timespec="microseconds").removesuffix("+00:00") + "Z"


def case_view(history: list[Event]) -> Document | None:
    state = state_of(history)
    if state.case is None:
        return None
    opened = state.case
    view: Document = {
        **opened["case"],
        "_id": opened["case"]["case_id"],
        "purpose": opened["purpose"],
        "request": opened["request"],
        "matches": opened["matches"],
        "evidence": opened.get("evidence", []),
        "state": "open",
    }
    view["opened_at"] = queue_time(view["opened_at"])
    passed = [e["phase"] for e in history if e["type"] == "ReviewDeadlinePassed"]
    if passed:
        view["deadline_state"] = "overdue" if "overdue" in passed else "due_soon"  # R22 warning, then breach
    if state.decision is not None:
        decided = state.decision
        view |= {
            "state": "decided",
            "decision": decided["decision"],
            "decided_by": decided["by"]["sub"],
            "decided_at": decided["at"],
            "decision_reason": decided["reason"],
        }
    return view


class ReviewCases:
    def __init__(self, runtime: ServiceRuntime) -> None:
        self.runtime = runtime
        self.collection = runtime.db["review_cases"]
        self.pairs = ReviewedPairs(runtime)

    async def _history(self, stream: str) -> list[Event]:
        return [event for commit in await self.runtime.events.load(stream) for event in commit["events"]]

    async def project(self, stream: str) -> Document | None:
        """The case's view from its stream. Two projections may race (the check that opened it and a redelivery, a
        deadline's timer and the county's decision) and the one read earlier may write last: after its write, a
        projection that finds a later commit projects again, so the last write is of the latest stream (R14, R22)."""
        commits = await self.runtime.events.load(stream)
        while True:
            view = case_view([event for commit in commits for event in commit["events"]])
            if view is None:
                return None
            await replace_by_id(self.collection, view)  # two first projections of a new case may race
            [later] = await self.runtime.events.commits_at([(stream, len(commits) + 1)])
            if later is None:
                return view
            commits = await self.runtime.events.load(stream)

    async def upgrade(self) -> None:
        """Run at start: cases projected before `opened_at` was kept in the queue's form get that form, by `_id`.
        One scan, as one page of the list is; safe to repeat or to run on two replicas at once (each writes the same
        value). A case an older replica projects during a rolling update keeps the old form until it is projected
        again (decision, deadline) or the next start."""
        async for case in self.collection.find({}, projection={"opened_at": 1}):
            canonical = queue_time(case["opened_at"])
            if canonical != case["opened_at"]:
                await self.collection.update_one({"_id": case["_id"]}, {"$set": {"opened_at": canonical}})

    async def page_in_jurisdiction(
        self, prefix: str, state: str | None, after: Position | None, limit: int
    ) -> tuple[list[Document], Position | None]:
        """Up to `limit` cases whose county lies under the division prefix (R50), in (opened_at, case id) order from
        just after `after`, and the position of the last one when more follow (None on the last page).

        This scans: the store serves only `_id` equality from an index, and the queue is filtered by county and
        state. One find command a page, whose first reply carries the whole page (`limit` + 1 cases, the one more
        only telling that another page follows), so a page never waits on a second round trip."""
        query: Document = {"county_code": {"$regex": f"^{prefix}"}}
        if state is not None:
            query["state"] = state
        if after is not None:
            opened_at, case_id = queue_time(after[0]), after[1]  # a cursor handed out before may carry another form
            query["$or"] = [{"opened_at": {"$gt": opened_at}}, {"opened_at": opened_at, "_id": {"$gt": case_id}}]
        order = [("opened_at", ASCENDING), ("_id", ASCENDING)]
        found = self.collection.find(query, sort=order, limit=limit + 1, batch_size=limit + 1)
        cases = [case async for case in found]
        page = cases[:limit]
        return page, (page[-1]["opened_at"], page[-1]["_id"]) if len(cases) > limit else None

    async def get(self, case_id: str) -> Document | None:
        return await self.collection.find_one({"_id": case_id})

    async def decide(
        self, case_id: str, operator: OperatorClaims, decision: ReviewDecision, reason: str, commit_id: str
    ) -> Document | None:
        """Record the county's decision once and tell the registry (which refuses or releases the record). A
        `commit_id` stored before (the request retried with its Idempotency-Key) decides nothing again. A finding of
        different persons stands for the pair: the other cases opened for it are decided with it (`settle_pair`)."""
        stream = stream_of_case(case_id)
        by = operator.model_dump(mode="json")
        decide = self._deciding(case_id, by, operator.code, decision, reason, datetime.now(UTC))
        # Another request's commit id is another decision, refused by decide_review rather than swallowed.
        await decide_and_save(self.runtime.events, stream, commit_id, decide)
        self.runtime.relay.nudge()
        view = await self.project(stream)
        await self.settle_pair(stream)  # after the commit; a retry settles what a crash left undone
        return view

    async def settle_pair(self, stream: str) -> None:
        """The case's decision "different person" clears its pair; each other case of the pair still open is decided
        with it (once: its commit is named by the deciding case)."""
        state = state_of(await self._history(stream))
        if state.case is None or state.decision is None:
            return
        if state.decision["decision"] != ReviewDecision.DIFFERENT_PERSON.value:
            return
        case, decided = state.case["case"], state.decision
        pair = await self.pairs.clear(
            case["case_id"], case["student_id"], case["candidate_student_id"],
            by=decided["by"], county_code=case["county_code"], reason=decided["reason"],
        )  # fmt: skip
        for other in pair.cases:
            if other != case["case_id"] and pair.cleared is not None:
                await self.decide_with_pair(other, pair.cleared)

    async def decide_with_pair(self, case_id: str, cleared: Event) -> None:
        """Decide a case of a pair the county found different persons in another case, as that case was decided (by
        its operator, citing it). A case decided already, or of another county (R50), is left as it is."""
        zh, en = cleared_reason(cleared["case_id"])
        reason = f"{zh}（{en}）：{cleared['reason']}"
        stream = stream_of_case(case_id)
        decision = ReviewDecision.DIFFERENT_PERSON
        decide = self._deciding(case_id, cleared["by"], cleared["county_code"], decision, reason, datetime.now(UTC))
        try:
            await decide_and_save(self.runtime.events, stream, f"pair:{cleared['case_id']}", decide)
        except ReviewRefused as refused:
            log.info("pair_case_left_as_it_is", case_id=case_id, reason=refused.reason)
            return
        self.runtime.relay.nudge()
        await self.project(stream)

    def _deciding(
        self, case_id: str, by: Event, county: str, decision: ReviewDecision, reason: str, now: datetime
    ) -> Callable[[list[Event]], Decision]:
        stream = stream_of_case(case_id)

        def decide(history: list[Event]) -> Decision:
            events = decide_review(history, decision=decision.value, by=by, county_code=county, reason=reason, at=now)
            opened = state_of(history).case or {}
            decided = ReviewCaseDecided(
                **{k: opened["case"][k] for k in ("case_id", "county_code", "school_code", "student_id")},
                decision=decision,
                decided_by=by["sub"],
                decided_at=now,
                reason=reason,
            )
            message = envelop(
                decided,
                producer="dedupe",
                province=self.runtime.settings.province,
                occurred_at=now,
                correlation_id=uuid.UUID(stream.removeprefix("check:")),
            )
            return Decision(events, [Outgoing(DEDUPE_REVIEW.name, case_id, message)])

        return decide

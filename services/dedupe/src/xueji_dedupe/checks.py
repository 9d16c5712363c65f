"""Answering a check (R01, R03, R10, R14): the verdict from the index, a county review case for a possible
duplicate, and the hop to the national tier for G-number issuance and G students' key-information changes.

Every answer is a commit in the check's own stream (named by the correlation id) and leaves through the
outbox, so a redelivered or repeated request is answered once.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from xueji_contracts.envelope import Envelope, derive_id, envelop
from xueji_contracts.messages.dedupe import CheckPurpose, CheckRequested, RegisterOutcome, VerdictGiven, VerdictKind
from xueji_contracts.messages.dedupe_review import ReviewCaseOpened, ReviewDecision
from xueji_contracts.topics import DEDUPE_REVIEW, DEDUPE_VERDICT, NATIONAL_CHECK, NATIONAL_VERDICT
from xueji_dedupe.cases import ReviewCases
from xueji_dedupe.deadlines import ReviewDeadlines
from xueji_dedupe.domain import CandidateRecord, MatchPolicy, Verdict, check
from xueji_dedupe.domain.review import (
    CaseNotFound,
    case_id_for,
    check_stream,
    decide_answer,
    decide_forward,
    state_of,
    stream_of_case,
)
from xueji_dedupe.domain.verdict import VerdictKind as Kind
from xueji_dedupe.feed import check_request, facts_of
from xueji_dedupe.index_keeper import IndexKeeper
from xueji_dedupe.register import PopulationRegister
from xueji_dedupe.reservations import Reservations
from xueji_dedupe.settings import DedupeSettings
from xueji_dedupe.verdicts import case_opened, verdict_message, without_cleared
from xueji_kit.aggregates import Decision, decide_and_save
from xueji_kit.event_store import NewStream
from xueji_kit.outbox_entries import Outgoing
from xueji_kit.runtime import ServiceRuntime
from xueji_kit.store import ConcurrencyConflict

# Answers that create a record (R14): enrolled at once, or waiting for the county's review. Either is held (and its
# ID number reserved) until the record reaches the index, so the same valid ID number checked meanwhile is refused
# outright, not sent to review beside it (two cases the county could both approve: two records for one child).
CREATED = frozenset({Kind.UNIQUE, Kind.POSSIBLE_DUPLICATE})


class Checks:
    def __init__(
        self,
        runtime: ServiceRuntime,
        keeper: IndexKeeper,
        policy: MatchPolicy,
        register: PopulationRegister,
        cases: ReviewCases,
        reservations: Reservations,
        deadlines: ReviewDeadlines | None = None,
    ) -> None:
        self.runtime = runtime
        self.settings: DedupeSettings = runtime.settings  # type: ignore[assignment]
        self.keeper = keeper
        self.policy = policy
        self.register = register
        self.cases = cases
        self.reservations = reservations
        self.deadlines = deadlines  # R22 timers of the review cases (province tier)

    async def preview(self, request: CheckRequested) -> VerdictGiven:
        """An operator's check before acting: the index's answer and nothing else. No hold and no reservation, which
        are for a record about to be created (a "unique" answer held the person as if enrolled, and the enrollment
        that followed was refused as a duplicate of the check); the national tier still compares the register."""
        if self.settings.national:
            return await self.verdict(request)
        return verdict_message(check(self.keeper.index, check_request(request), self.policy), request, tier="province")

    async def verdict(self, request: CheckRequested) -> VerdictGiven:
        """The answer from this tier's index; the national tier adds the population register's comparison."""
        if self.settings.national:
            verdict = check(self.keeper.index, check_request(request), self.policy)
            return verdict_message(verdict, request, tier="national", register=await self._compare(request))
        verdict, person = self._held(request)
        holder = None if person is None else await self.reservations.reserve(person)
        return self._province_answer(request, verdict, person, holder)

    def _held(self, request: CheckRequested) -> tuple[Verdict, CandidateRecord | None]:
        """The index's verdict; a creation answered "unique" is held (no await since the check: a concurrent check
        for the same child sees it, R01) and returned as the person to reserve. The refused requests a corrected
        request follows end first: their refusals travel on the identity feed and may reach this replica later, and
        the corrected request was then refused as a duplicate of a record that never was."""
        now = time.monotonic()
        for refused in request.refused_before:
            self.keeper.refuse(refused, now)
        verdict = check(self.keeper.index, check_request(request), self.policy)
        if request.purpose is not CheckPurpose.CREATION or verdict.kind not in CREATED:
            return verdict, None
        if self.keeper.settled(request.student_id):
            return verdict, None  # a repeated check of a record created or refused since: nothing to hold
        person = CandidateRecord.model_validate(facts_of(request))
        self.keeper.hold(person, now)
        return verdict, person

    def _province_answer(
        self, request: CheckRequested, verdict: Verdict, person: CandidateRecord | None, holder: CandidateRecord | None
    ) -> VerdictGiven:
        """The held verdict, or, when another replica reserved the same child first, the verdict with it held."""
        if person is not None and holder is not None:
            self.keeper.release(person.student_id)
            self.keeper.hold(holder, time.monotonic())
            verdict = check(self.keeper.index, check_request(request), self.policy)
        return verdict_message(verdict, request, tier="province")

    async def on_request(self, message: Envelope[CheckRequested]) -> None:
        answer = await self._without_cleared(message.payload, await self.verdict(message.payload))
        if self._goes_national(message.payload, answer) or await self._cleared(message.payload, answer):
            await self._forward(message)
        else:
            await self.record(message.payload, answer, cause=message)

    async def on_requests(self, messages: list[Envelope[CheckRequested]]) -> None:
        """A batch of checks (a bulk import's rows): each verdict from the index in turn, so each sees the holds of
        those before it; the persons answered "unique" reserved in one round trip; the plain answers (unique or
        duplicate, staying in this province) stored and sent in a few. Review cases and forwards go one by one."""
        if self.settings.national:
            for message in messages:
                await self.on_request(message)
            return
        held = [self._held(m.payload) for m in messages]
        holders = await self.reservations.reserve_many([p for _, p in held if p is not None])
        plain: list[tuple[Envelope[CheckRequested], VerdictGiven]] = []
        for message, (verdict, person) in zip(messages, held, strict=True):
            holder = None if person is None else holders.get(person.student_id)
            answer = self._province_answer(message.payload, verdict, person, holder)
            answer = await self._without_cleared(message.payload, answer)
            if self._goes_national(message.payload, answer) or await self._cleared(message.payload, answer):
                await self._forward(message)
            elif answer.verdict is VerdictKind.POSSIBLE_DUPLICATE:
                await self.record(message.payload, answer, cause=message)
            else:
                plain.append((message, answer))
        await self._record_plain(plain)

    async def _record_plain(self, answered: list[tuple[Envelope[CheckRequested], VerdictGiven]]) -> None:
        """Answers without a review case, each the first commit of its check's stream, stored together; a stream
        begun otherwise (a check forwarded before) is answered the one-at-a-time way, which finds it answered."""
        now = datetime.now(UTC)
        streams = []
        for cause, answer in answered:
            correlation = cause.correlation_id
            sent = envelop(answer, **self._meta(now, cause))
            event = {"type": "CheckAnswered", "verdict": answer.model_dump(mode="json"), "at": now.isoformat()}
            streams.append(
                NewStream(
                    str(derive_id(correlation, "answer")),
                    check_stream(correlation),
                    decide_answer([], event, None),
                    [Outgoing(DEDUPE_VERDICT.name, str(correlation), sent)],
                )
            )
        try:
            await self.runtime.events.start_many(streams, now)
        except ConcurrencyConflict:
            for cause, answer in answered:
                await self.record(cause.payload, answer, cause=cause)
        self.runtime.relay.nudge()

    async def on_national_answer(self, message: Envelope[VerdictGiven]) -> None:
        """The national tier's answer to a check this province forwarded; others' answers are passed over."""
        commits = await self.runtime.events.load(check_stream(message.correlation_id))
        forwarded = state_of([e for c in commits for e in c["events"]]).forwarded
        if forwarded is not None:
            request = CheckRequested.model_validate(forwarded["request"])
            await self.record(request, await self._without_cleared(request, message.payload), cause=message)

    async def _without_cleared(self, request: CheckRequested, answer: VerdictGiven) -> VerdictGiven:
        """R14: a possible duplicate without the records the county already found a different person from this
        student (the national tier's finding or this province's own again): the county's decision stands for the
        pair, so no second case opens for it. One pair stream read (by `_id`) per record named."""
        if self.settings.national or answer.verdict is not VerdictKind.POSSIBLE_DUPLICATE:
            return answer
        cleared: dict[str, str] = {}
        for match in answer.matches:
            found = await self.cases.pairs.cleared(request.student_id, match.student_id)
            if found is not None:
                cleared[match.student_id] = found["case_id"]
        return without_cleared(answer, cleared) if cleared else answer

    async def record(self, request: CheckRequested, answer: VerdictGiven, cause: Envelope[Any]) -> None:
        now = datetime.now(UTC)
        correlation = cause.correlation_id
        case: dict[str, Any] | None = None
        outgoing: list[Outgoing] = []
        if answer.verdict is VerdictKind.POSSIBLE_DUPLICATE and not self.settings.national:
            answer = answer.model_copy(update={"review_case_id": case_id_for(correlation)})
            deadline = self.deadlines.deadline_fields(now) if self.deadlines is not None else None
            case = case_opened(request, answer, now, self._indexed, deadline)
            opened = envelop(ReviewCaseOpened.model_validate(case["case"]), **self._meta(now, cause))
            outgoing.append(Outgoing(DEDUPE_REVIEW.name, opened.payload.case_id, opened))
        topic = NATIONAL_VERDICT if self.settings.national else DEDUPE_VERDICT
        # The national tier answers in the asking province's name, so a mirror can route it back there alone.
        province = cause.province if self.settings.national else self.settings.province
        meta = self._meta(now, cause) | {"province": province}
        outgoing.insert(0, Outgoing(topic.name, str(correlation), envelop(answer, **meta)))
        answered = {"type": "CheckAnswered", "verdict": answer.model_dump(mode="json"), "at": now.isoformat()}
        await decide_and_save(
            self.runtime.events,
            check_stream(correlation),
            str(derive_id(correlation, "answer")),
            lambda history: Decision(decide_answer(history, answered, case), outgoing),
        )
        if case is not None:
            view = await self.cases.project(check_stream(correlation))
            if self.deadlines is not None:  # after the commit; arming again (a redelivery) changes nothing
                await self.deadlines.arm(case["case"])
            if view is not None:  # the case as stored (a redelivery's answer may differ from the first)
                await self._note_pair(view)
        self.runtime.relay.nudge()

    async def _note_pair(self, view: dict[str, Any]) -> None:
        """R14: the case noted on its pair; a pair the county cleared meanwhile (its decision raced this answer)
        decides the case with it, so the county reviews the pair once in either order."""
        case_id = view["case_id"]
        pair = await self.cases.pairs.note(case_id, view["student_id"], view["candidate_student_id"])
        if pair.cleared is not None and view.get("state") == "open":
            await self.cases.decide_with_pair(case_id, pair.cleared)

    async def _forward(self, message: Envelope[CheckRequested]) -> None:
        now = datetime.now(UTC)
        request = message.payload.model_dump(mode="json")
        forwarded = {"type": "CheckForwarded", "request": request, "at": now.isoformat()}
        out = envelop(message.payload, **self._meta(now, message))
        outgoing = [Outgoing(NATIONAL_CHECK.name, str(message.correlation_id), out)]
        await decide_and_save(
            self.runtime.events,
            check_stream(message.correlation_id),
            str(derive_id(message.correlation_id, "forward")),
            lambda history: Decision(decide_forward(history, forwarded), outgoing),
        )
        self.runtime.relay.nudge()

    async def _cleared(self, request: CheckRequested, answer: VerdictGiven) -> bool:
        """R14: a possible duplicate the county already decided a different person (the case the request names, of
        the same student) goes on to the national tier like a unique answer, instead of into review again."""
        case_id = request.cleared_review_case_id
        if case_id is None or answer.verdict is not VerdictKind.POSSIBLE_DUPLICATE:
            return False
        if not self._goes_national(request, answer.model_copy(update={"verdict": VerdictKind.UNIQUE})):
            return False
        try:
            commits = await self.runtime.events.load(stream_of_case(case_id))
        except CaseNotFound:
            return False
        state = state_of([e for c in commits for e in c["events"]])
        if state.case is None or state.decision is None or state.case["case"]["student_id"] != request.student_id:
            return False
        return bool(state.decision["decision"] == ReviewDecision.DIFFERENT_PERSON.value)

    def _goes_national(self, request: CheckRequested, answer: VerdictGiven) -> bool:
        """R03: a G number needs the national check; R10: so does a G student's key-information change.
        What the province already found (duplicate or review) is answered here, but for a possible duplicate the
        county already cleared (`_cleared`)."""
        if self.settings.national or not self.settings.national_enabled or answer.verdict is not VerdictKind.UNIQUE:
            return False
        g_student = (request.status_number or "").startswith("G")
        return request.purpose is CheckPurpose.G_NUMBER_ISSUANCE or (
            request.purpose is CheckPurpose.KEY_INFO_CHANGE and g_student
        )

    async def _compare(self, request: CheckRequested) -> RegisterOutcome | None:
        number = request.status_number or ""
        id_number = request.id_number or (number[1:] if number.startswith("G") else None)
        if id_number is None:
            return None  # no ID number: nothing the register can compare (a J student, R03)
        return await self.register.compare(id_number, request.name, request.birth_date, request.gender)

    def _indexed(self, student_id: str) -> CandidateRecord | None:
        return self.keeper.index.record(student_id) if student_id in self.keeper.index else None

    def _meta(self, now: datetime, cause: Envelope[Any]) -> dict[str, Any]:
        producer = "dedupe-national" if self.settings.national else "dedupe"
        return {"producer": producer, "province": self.settings.province, "occurred_at": now, "causation": cause}

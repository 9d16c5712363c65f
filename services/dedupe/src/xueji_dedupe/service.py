"""What dedupe's routes and handlers ask of it, in one object (as `TransferService` is for transfer): answer a check,
keep the index and its stored copy, list and decide the county's review cases (R01, R03, R10, R14, R50).

Routes reach it as `request.app.state.dedupe`, handlers as `Context("dedupe")`. The work is done by `Checks` (the
verdict and its commit), `ReviewCases` (the queue and the county's decision) and `IndexKeeper` (the index in memory).
"""

from __future__ import annotations

import time
from typing import Any

import structlog

from xueji_contracts.auth import OperatorClaims
from xueji_contracts.envelope import Envelope
from xueji_contracts.messages.dedupe import CheckRequested, VerdictGiven
from xueji_contracts.messages.dedupe_review import ReviewDecision
from xueji_contracts.topics import NATIONAL_IDENTITY
from xueji_dedupe.candidate_store import CandidateStore
from xueji_dedupe.cases import Position, ReviewCases
from xueji_dedupe.checks import Checks
from xueji_dedupe.deadlines import ReviewDeadlines
from xueji_dedupe.feed import refused_of, update_of
from xueji_dedupe.index_keeper import IndexKeeper
from xueji_dedupe.settings import DedupeSettings
from xueji_kit.runtime import ServiceRuntime, headers_of
from xueji_kit.store import Document

log = structlog.get_logger("dedupe.identity")


class DedupeService:
    def __init__(
        self, runtime: ServiceRuntime, keeper: IndexKeeper, candidates: CandidateStore, checks: Checks
    ) -> None:
        self.runtime = runtime
        self.settings: DedupeSettings = checks.settings
        self.keeper = keeper
        self.candidates = candidates
        self.checks = checks
        self.cases: ReviewCases = checks.cases
        self.deadlines: ReviewDeadlines | None = checks.deadlines  # R22 timers of the review cases (province tier)

    # Checks (R01, R03, R10, R14)

    async def verdict(self, request: CheckRequested) -> VerdictGiven:
        """A record about to be created: the verdict, the person held and reserved when unique (no review case)."""
        return await self.checks.verdict(request)

    async def preview(self, request: CheckRequested) -> VerdictGiven:
        """An operator's check before acting: the verdict only (nothing stored or held, no review case)."""
        return await self.checks.preview(request)

    def index_size(self) -> dict[str, Any]:
        return {"scope": self.settings.scope, "records": len(self.keeper.index)}

    async def answer_checks(self, messages: list[Envelope[CheckRequested]]) -> None:
        """Checks from the registry: one verdict each by correlation id, a review case for a possible duplicate."""
        await self.checks.on_requests(messages)

    async def record_national_answers(self, messages: list[Envelope[VerdictGiven]]) -> None:
        """The national tier's answers to checks this province forwarded, each in turn (one check's stream each)."""
        for message in messages:
            await self.checks.on_national_answer(message)

    # The index (the identity feed)

    async def store_identities(self, batch: list[Envelope[Any] | None], forwarded: list[Any]) -> None:
        """The index's durable copy, in one round trip; a province then forwards each identity to the national tier
        (R03, R10), adding the acks of the forwards to `forwarded`. `None`: a type this consumer does not know. A
        refused creation removes the reservation taken for it (one `_id` read, and its removal if it is still its)."""
        known = [m for m in batch if m is not None]
        if len(known) < len(batch):
            log.info("identity_messages_passed_over", count=len(batch) - len(known))
        refused = [person for m in known if (person := refused_of(m)) is not None]
        messages = [m for m in known if refused_of(m) is None]
        await self.candidates.save_many([(update_of(m), str(m.message_id)) for m in messages])
        for person in refused:  # R01: refused after it was answered; the national tier held nothing for it
            await self.checks.reservations.release(person)
        if not self.settings.national and self.settings.national_enabled:
            # Forwarded after they are stored, also on a redelivery: the national tier ignores versions it holds.
            # As the relay publishes every other message: the envelope's correlation id and province as headers
            # (AsyncAPI's correlationId is the `correlation_id` header; a mirror routes by `xueji-province-<code>`).
            topic = self.settings.topic(NATIONAL_IDENTITY.name)
            for identity in messages:
                key = update_of(identity).student_id.encode()
                body = identity.model_dump(mode="json")
                ack = await self.runtime.broker.publish(
                    body, topic, key=key, no_confirm=True, correlation_id=str(identity.correlation_id),
                    headers=headers_of(identity.province),
                )  # fmt: skip
                forwarded.append(ack)

    def follow(self, identity: Envelope[Any]) -> None:
        """This replica's in-memory index, kept current from the feed (a version it holds changes nothing); a
        creation the registry refused after it was answered ends this replica's hold of the child."""
        if (refused := refused_of(identity)) is not None:
            self.keeper.refuse(refused.student_id, time.monotonic())
        else:
            self.keeper.apply(update_of(identity))

    # The county review queue (R14, R50)

    async def cases_in(
        self, prefix: str, state: str | None, after: Position | None, limit: int
    ) -> tuple[list[Document], Position | None]:
        """A page of the review queue under `prefix`, and where the next page starts (None: the last page)."""
        return await self.cases.page_in_jurisdiction(prefix, state, after, limit)

    async def case(self, case_id: str) -> Document | None:
        return await self.cases.get(case_id)

    async def decide_case(
        self, case_id: str, operator: OperatorClaims, decision: ReviewDecision, reason: str, commit_id: str
    ) -> Document | None:
        """The county's decision, recorded once and told to the registry; ReviewRefused when the rules refuse it."""
        return await self.cases.decide(case_id, operator, decision, reason, commit_id)

"""Completing pending enrollments on dedupe's verdicts, a batch at a time (R01, R03, R07, R14).

A school's freshman class arrives as hundreds of verdicts at once. Each verdict still gets what a single enrollment
gets (refusal of a duplicate, the record with its L or J number, county review of a possible duplicate, the R07
supplementary number, the public event, the identity feed, the R02 deadline), but the store is asked per batch:
pending requests read concurrently, counters won by one insert per scope, R07 numbers by two for all its schools (the
claims, the numbers), every new record's first commit written by `EventStore.start_many`, the register and the timers
in a round trip each.

The R07 number is given in the record's first commit, so only records that will be stored get one (no gap). A
redelivered verdict finds its commit stored and stores nothing; its claims give it the same R07 number again.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog

from xueji_contracts.division import Division
from xueji_contracts.envelope import Envelope, derive_id
from xueji_contracts.messages.dedupe import VerdictGiven, VerdictKind
from xueji_contracts.messages.status import StatusState
from xueji_kit.event_store import NewStream
from xueji_kit.store import ConcurrencyConflict
from xueji_registry.allocation import Sequences
from xueji_registry.domain import (
    AssignSupplementaryNumber,
    DuplicateCheck,
    DuplicateOutcome,
    EnrollStudent,
    RegistryError,
    StudentStatus,
    handle,
    to_documents,
)
from xueji_registry.domain import enrollment_request as request
from xueji_registry.domain.enrollment_request import EnrollmentRequest, EnrollmentRequested
from xueji_registry.domain.errors import DuplicateStatus
from xueji_registry.domain.numbers import BLOCK_COUNTERS_FROM
from xueji_registry.domain.public_changes import public_changes
from xueji_registry.domain.rules import RegistryRules
from xueji_registry.domain.supplementary import numbering_of
from xueji_registry.enrollment.requests import pending_stream, record_refusal, student_of
from xueji_registry.enrollment.second_verdicts import record_stands, refused_before
from xueji_registry.feeds.identity import refusal_messages
from xueji_registry.numbers.supplementary import school_operator, series_scope
from xueji_registry.service import RegistryService

log = structlog.get_logger("registry.intake")
LOADING_AT_ONCE = 32  # pending requests read concurrently
OUTCOMES = {
    VerdictKind.UNIQUE: DuplicateOutcome.CLEAR,
    VerdictKind.DUPLICATE: DuplicateOutcome.DUPLICATE,
    VerdictKind.POSSIBLE_DUPLICATE: DuplicateOutcome.POSSIBLE,
}


def as_check(verdict: VerdictGiven) -> DuplicateCheck:
    """dedupe's answer in the domain's terms: clear, or the existing record a duplicate or possible one points at."""
    outcome = OUTCOMES[verdict.verdict]
    existing = None if outcome is DuplicateOutcome.CLEAR else (verdict.existing_student_id or "unknown")
    return DuplicateCheck(outcome=outcome, existing_student_id=existing)


@dataclass(frozen=True)
class Pending:
    """A verdict with the request it answers."""

    verdict: Envelope[VerdictGiven]
    requested: EnrollmentRequested

    @property
    def body(self) -> EnrollmentRequest:
        return self.requested.request

    @property
    def student_id(self) -> str:
        return student_of(self.verdict.correlation_id)

    @property
    def commit_id(self) -> str:
        return str(derive_id(self.verdict.message_id, "enroll"))


@dataclass
class Decided:
    pending: Pending
    state: StudentStatus
    events: list[Any]


async def complete(
    service: RegistryService, verdicts: list[Envelope[VerdictGiven]], committed: list[Awaitable[None]] | None = None
) -> None:
    """Every creation verdict of the batch: refused, created (enrolled and numbered) or waiting for county review.

    With `committed`, the new records are stored behind the batch (`FollowUpsBehind`) while the next one is decided,
    and the future of their commit is appended: the caller commits the batch's offsets only once it is done. Without,
    they are stored before this returns."""
    now = datetime.now(UTC)
    rules = service.rules
    verdicts = _once_per_student(verdicts)
    waiting = [p for p in await _pending(service, verdicts) if await _not_refused_as_duplicate(service, p)]
    counters = await _counters(service.sequences, waiting)
    decided: list[Decided] = []
    for pending, counter in zip(waiting, counters, strict=True):
        try:
            state, events = handle(_enroll(pending, counter), None, now, rules)
        except RegistryError as exc:
            await _refuse(service, pending, exc)
            continue
        assert state is not None, "enrolling decides a record"
        decided.append(Decided(pending, state, list(events)))
    if rules.layout is not None:  # R07: a province whose policy sets no layout gives no supplementary number
        await _number(service.sequences, decided, now, rules)
    streams = [
        NewStream(d.pending.commit_id, d.state.student_id, to_documents(d.events), _messages(service, d))
        for d in decided
    ]
    # A single verdict is stored in line: so is each verdict of a batch that failed, handled one at a time, so that
    # one whose records the store refuses reaches the batch handler, which dead-letters it (behind, its failure would
    # only rewind the consumer, and the batch would come again and again).
    behind = committed is not None and len(verdicts) > 1 and service.behind.commits_behind()
    starting = list(zip(decided, streams, strict=True))

    async def commits() -> None:
        try:
            await service.events.start_many(streams, now)
        except ConcurrencyConflict:  # some record begun by another commit: store the others, leave that one as is
            decided[:] = [d for d, stream in starting if await _start_one(service, d, stream, now)]  # others: by theirs
        service.runtime.relay.nudge()

    # Right after the commits, so the records are found in their schools' registers within the next batch. The relay's
    # follower does the same from the commits, so a crash before they are done delays these follow-ups and never loses
    # them (follow_ups).
    async def follow_ups() -> None:
        await service.follow_changes([(None, d.state) for d in decided], now)
        service.followed([(d.state.student_id, 1) for d in decided])

    busy = contextlib.ExitStack()  # the relay's follower waits for these commits' follow-ups until it closes
    with busy:
        busy.enter_context(service.following.at_once([(d.state.student_id, 1) for d in decided]))
        if not behind:
            await commits()
        done = await service.behind.start(follow_ups, busy.pop_all(), commits if behind else None)
    if behind and committed is not None:
        committed.append(done)


async def _start_one(service: RegistryService, d: Decided, stream: NewStream, now: datetime) -> bool:
    """Store one new record; False when its stream was begun by another commit: a second verdict on the same request
    under another message id (the commit id is derived from it). Dedupe answers a check once, in its check stream; a
    second copy of that answer came from the outbox entry of a writer that lost the answer's commit, published
    beside the winner's (closed in `EventStore._stored_by_its_writer`). The record stored first stands (its status
    number, its R07 number, its messages); this verdict's decision is dropped: nothing of it stored, published or
    followed up, its L counter skipped (R03 counters may skip), its R07 claim the record's own."""
    try:
        await service.events.start_many([stream], now)
        return True
    except ConcurrencyConflict:
        first = await service.events.first(stream.aggregate_id)
        log.warning("record_begun_otherwise", student_id=stream.aggregate_id, commit_id=stream.commit_id,
                    message_id=str(d.pending.verdict.message_id), verdict=d.pending.verdict.payload.verdict.value,
                    kept_commit_id=None if first is None else first.get("commit_id"),
                    kept="the record as the kept commit began it; this verdict's decision dropped")  # fmt: skip
        return False


def _once_per_student(verdicts: list[Envelope[VerdictGiven]]) -> list[Envelope[VerdictGiven]]:
    """The first verdict of each student in the batch. A verdict published twice (its acknowledgement lost while the
    broker hung) arrives twice, often in one batch: both copies were numbered together, each won an R07 number and
    only one record was stored, leaving a gap (R07: no broken codes). A later copy, in a later batch, finds the first
    one's claim and its number. A later one that says otherwise (another verdict on the same request) is left for the
    first too, and said at warning (`second_verdicts`)."""
    first: dict[str, Envelope[VerdictGiven]] = {}
    for verdict in verdicts:
        if (kept := first.setdefault(student_of(verdict.correlation_id), verdict)) is not verdict:
            said = log.info if kept.payload.verdict is verdict.payload.verdict else log.warning
            said("verdict_repeated_in_batch", student_id=student_of(verdict.correlation_id),
                 message_id=str(verdict.message_id), verdict=verdict.payload.verdict.value,
                 kept_message_id=str(kept.message_id), kept_verdict=kept.payload.verdict.value)  # fmt: skip
    return list(first.values())


async def _pending(service: RegistryService, verdicts: list[Envelope[VerdictGiven]]) -> list[Pending]:
    """Each verdict's request: kept by this replica since it stored it, or read from its pending stream. Only those
    read go through tasks (a class's 500 verdicts as 500 tasks that never waited for anything: 43 -> 23 us a verdict,
    about 2% of the registry's CPU in a bulk import)."""
    gate = asyncio.Semaphore(LOADING_AT_ONCE)

    async def load(verdict: Envelope[VerdictGiven]) -> EnrollmentRequested | None:
        student_id = student_of(verdict.correlation_id)
        async with gate:
            first = await service.events.first(pending_stream(student_id))
            # The refusal beside it: a request read back (not kept here) is one a verdict may have come for before.
            refusal = None if first is None else await service.events.commit_at(pending_stream(student_id), 2)
        if first is None:
            log.warning("verdict_without_request", student_id=student_id)
            return None
        if refused_before(verdict, student_id, refusal):
            return None
        return request.replay(request.from_documents(first["events"])).requested

    kept = [service.recent.take(student_of(v.correlation_id)) for v in verdicts]
    unkept = [v for v, requested in zip(verdicts, kept, strict=True) if requested is None]
    read = iter(await asyncio.gather(*(load(v) for v in unkept)) if unkept else ())
    found = []
    for verdict, requested in zip(verdicts, kept, strict=True):
        if requested is None and (requested := next(read)) is None:
            continue  # said by `load`: no request, or refused before
        found.append(Pending(verdict, requested))
    return found


async def _not_refused_as_duplicate(service: RegistryService, pending: Pending) -> bool:
    """R01: a duplicate ends the request, refused, naming the record the person has; not when an earlier verdict on
    it created its record, which stands (`second_verdicts`)."""
    check = as_check(pending.verdict.payload)
    if check.outcome is not DuplicateOutcome.DUPLICATE:
        return True
    if await record_stands(service, pending.verdict, pending.student_id, "R01"):
        return False
    refusal = request.decide_duplicate(check.existing_student_id, datetime.now(UTC))
    await record_refusal(service, pending.student_id, pending.commit_id, refusal)
    return False


async def _refuse(service: RegistryService, pending: Pending, exc: RegistryError) -> None:
    """A rule the creation broke after dedupe answered "unique" or "possible duplicate" (R02): refused, and dedupe is
    told on the identity feed, so it releases the child it held and the corrected request is checked afresh. Not when
    an earlier verdict on it created its record, which stands and stays in dedupe's index (`second_verdicts`)."""
    if await record_stands(service, pending.verdict, pending.student_id, exc.rule):
        return
    existing = exc.existing if isinstance(exc, DuplicateStatus) else None
    refusal = request.decide_refusal(exc.rule, exc.reason, exc.field, existing, datetime.now(UTC))
    person = pending.body.person_facts(pending.student_id)
    told = refusal_messages(service.province, person, exc.rule, exc.reason, pending.verdict.correlation_id)
    await record_refusal(service, pending.student_id, pending.commit_id, refusal, told)


async def _counters(sequences: Sequences, waiting: list[Pending]) -> list[int]:
    """R03: each county's L (with an ID number) or J counter, unique, from blocks this process holds (a redelivery, a
    restart may skip some)."""
    by_scope: dict[str, list[int]] = {}
    for i, p in enumerate(waiting):
        county = Division.parse(p.body.school_code).county
        by_scope.setdefault(f"{'L' if p.body.id_number else 'J'}:{county}", []).append(i)
    counters = [0] * len(waiting)
    for scope, members in by_scope.items():
        won = await sequences.take_many(scope, len(members), first=BLOCK_COUNTERS_FROM)
        for i, counter in zip(members, won, strict=True):
            counters[i] = counter
    return counters


def _enroll(pending: Pending, counter: int) -> EnrollStudent:
    body, requested = pending.body, pending.requested
    return EnrollStudent(
        operator=requested.by,
        reason=requested.reason,
        student_id=pending.student_id,
        school_code=body.school_code,
        segment=body.the_segment(),
        grade=body.grade,
        identity=body.identity(),
        basic=body.basic,
        admitted_on=requested.admitted_on,
        school_year=body.school_year,
        number_counter=counter,
        duplicate_check=as_check(pending.verdict.payload),
    )


async def _number(sequences: Sequences, decided: list[Decided], now: datetime, rules: RegistryRules) -> None:
    """R07: every enrolled record the next supplementary number of its series (segment, school year and the school's
    digits), gapless per series and never given twice in the province."""
    by_scope: dict[str, list[Decided]] = {}
    for d in decided:
        if d.state.state is not StatusState.ENROLLED or d.state.segment in d.state.supplementary_numbers:
            continue
        try:
            scope = series_scope(d.state.segment, d.pending.body.school_year, d.state.school_code, rules.layout)
        except RegistryError as exc:  # no number in the province's layout: enrolled without one, no number taken
            log.error("supplementary_number_refused", student_id=d.state.student_id, rule=exc.rule, reason=exc.reason)
            continue
        by_scope.setdefault(scope, []).append(d)
    asked = {scope: [d.state.student_id for d in ds] for scope, ds in by_scope.items()}
    won = await sequences.allocate_across(asked)  # every series of the batch at once: two round trips
    for members, numbers in zip(by_scope.values(), won.values(), strict=True):
        for d, sequence in zip(members, numbers, strict=True):
            school = d.state.school_code
            command = AssignSupplementaryNumber(
                operator=school_operator(school),
                reason="R07 provincial supplementary number at first enrollment",
                school_year=d.pending.body.school_year,
                numbering=numbering_of(school),
                sequence=sequence,
            )
            try:
                state, events = handle(command, d.state, now, rules)
            except RegistryError as exc:  # e.g. the series' numbers of the year are used up: enrolled without one
                log.error(
                    "supplementary_number_refused", student_id=d.state.student_id, rule=exc.rule, reason=exc.reason
                )
                continue
            assert state is not None
            d.state, d.events = state, d.events + list(events)


def _messages(service: RegistryService, d: Decided) -> list[Any]:
    correlation: uuid.UUID = d.pending.verdict.correlation_id
    return service.messages_of(None, d.state, public_changes(None, d.events, 0), correlation)

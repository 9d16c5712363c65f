"""Enrollment of a student at a school: the request, its pending stream, and the dedupe check it asks for."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from xueji_contracts.auth import OperatorClaims
from xueji_contracts.envelope import envelop
from xueji_contracts.messages.dedupe import CheckPurpose, CheckRequested
from xueji_contracts.topics import DEDUPE_CHECK
from xueji_kit.aggregates import Decision, decide_and_save
from xueji_kit.event_store import NewStream
from xueji_kit.outbox_entries import Outgoing
from xueji_kit.store import Document
from xueji_registry.domain import enrollment_request as request
from xueji_registry.domain.enrollment_request import (
    EnrollmentRefused,
    EnrollmentRequest,
    EnrollmentRequested,
    EnrollmentRequestState,
)
from xueji_registry.domain.event_base import to_document
from xueji_registry.service import RegistryService


def pending_stream(student_id: str) -> str:
    return f"enrollment:{student_id}"


def student_of(correlation_id: uuid.UUID) -> str:
    """The student id a dedupe verdict answers: the request's correlation id is the id's own UUID."""
    return f"stu_{correlation_id.hex}"


def _request(
    province: str,
    body: EnrollmentRequest,
    operator: OperatorClaims,
    correlation: uuid.UUID,
    now: datetime,
    refused_before: tuple[str, ...] = (),
    upload: str | None = None,
) -> tuple[NewStream, EnrollmentRequested]:
    """The pending record of one enrollment and the dedupe check it asks for (R01, R14); `refused_before`: the
    requests a class sheet's corrected row follows (`attempts`) or a corrected request names (`corrected_chain`),
    each refused, stored with the request too; `upload`: the keyed upload asking it."""
    student_id = student_of(correlation)
    facts = body.person_facts(student_id)
    check = CheckRequested(**facts, purpose=CheckPurpose.CREATION, refused_before=refused_before)
    message = envelop(check, producer="registry", province=province, occurred_at=now, correlation_id=correlation)
    outgoing = [Outgoing(DEDUPE_CHECK.name, str(correlation), message)]
    event = request.decide_request(body, operator, now, refused_before, upload)
    return NewStream(f"{student_id}:requested", pending_stream(student_id), [to_document(event)], outgoing), event


async def request_enrollment(
    service: RegistryService,
    body: EnrollmentRequest,
    operator: OperatorClaims,
    correlation: uuid.UUID | None = None,
    refused_before: tuple[str, ...] = (),
) -> tuple[str, bool]:
    """Store the request as the pending record and ask dedupe through the outbox (R01, R14); no status yet.

    A given `correlation` (a bulk row's, derived from the row) makes the request idempotent: asking again for the
    same correlation stores and asks nothing. `refused_before`: the refused requests this one corrects, stored with it
    and named in its check (`corrected_chain`). Returns the student id and whether this call stored the request."""
    correlation = correlation or uuid.uuid4()
    now = datetime.now(UTC)
    new, event = _request(service.province, body, operator, correlation, now, refused_before)
    stored = await service.events.append(
        commit_id=new.commit_id,
        aggregate_id=new.aggregate_id,
        version=1,
        events=new.events,
        outgoing=new.outgoing,
        now=now,
    )
    service.runtime.relay.nudge()
    if stored:
        service.recent.keep(student_of(correlation), event)
    return student_of(correlation), stored


async def request_enrollments(
    service: RegistryService,
    requests: list[tuple[EnrollmentRequest, uuid.UUID, tuple[str, ...]]],
    operator: OperatorClaims,
    upload: str | None = None,
) -> list[tuple[str, EnrollmentRequested | None]]:
    """Many requests (a bulk import's rows, each with its derived correlation and the refused requests it follows) in
    a few round trips in all, and one `_id` lookup per row asked before. Per row its student id and, when it was asked
    before, the request as it was asked then (None: asked now), so that a corrected row is told from the same row
    uploaded again, and a row the same keyed `upload` asked (a retry of it) from a row another upload asked."""
    now = datetime.now(UTC)
    asked = [_request(service.province, b, operator, c, now, refused, upload) for b, c, refused in requests]
    found = await service.events.start_many_or_read([stream for stream, _ in asked], now)
    service.runtime.relay.nudge()
    for (_, correlation, _), (_, event), first in zip(requests, asked, found, strict=True):
        if first is None:
            service.recent.keep(student_of(correlation), event)
    return [(student_of(c), asked_then(first)) for (_, c, _), first in zip(requests, found, strict=True)]


class NotCorrectable(ValueError):
    """The request a new one names in `corrects` is not one of its school's refused requests (R01, R50)."""


CORRECTED_LINKS = 20  # the refused requests a corrected request names at most: the latest, and those it followed


async def corrected_chain(service: RegistryService, student_id: str, school_code: str) -> tuple[str, ...]:
    """The refused requests a new request of `school_code` that corrects `student_id` follows, oldest first, ending
    with `student_id`: those its request followed (stored with it) and itself, the latest CORRECTED_LINKS. Read by `_id`
    from its pending stream alone, however long the chain (each request stores the chain it followed). Naming them
    puts them in the new request's check (`refused_before`), so dedupe ends what any replica still holds for any of
    them even before it reads their refusals on the identity feed (R01): a clerk who corrects twice names the first
    refused request too. NotCorrectable when it is not this school's refused request."""
    commits = await service.events.load(pending_stream(student_id))
    # Another school's request is answered as a missing one: nothing is said of a request outside the school (R50).
    if not commits or commits[0]["events"][0]["request"]["school_code"] != school_code:
        raise NotCorrectable(f"no enrollment request {student_id} of school {school_code} to correct")
    state = state_of(commits)
    if state.refused is None:
        raise NotCorrectable(
            f"the enrollment request {student_id} was not refused: only a refused request is corrected by a new one"
        )
    followed = state.requested.refused_before if state.requested is not None else ()
    return (*followed, student_id)[-CORRECTED_LINKS:]


def asked_then(first: Document | None) -> EnrollmentRequested | None:
    """The request a pending stream's first commit holds, as it was asked (None: no commit)."""
    if first is None:
        return None
    requested = state_of([first]).requested
    assert requested is not None, "a pending stream begins with its request"
    return requested


async def record_refusal(
    service: RegistryService,
    student_id: str,
    commit_id: str,
    refused: EnrollmentRefused,
    outgoing: list[Outgoing] | None = None,
) -> None:
    """The request ends refused (R01 duplicate, R14 the county's "same person", or another rule); kept in the pending
    stream as history, and `outgoing` (what dedupe is told of a refusal it did not give) published with it. Only the
    first refusal is recorded, and only on a stream that holds a request: its version 2 is then the refusal, which
    a class sheet's row uploaded again looks up by `_id` (`attempts`)."""

    def decide(history: list[Document]) -> Decision:
        events = request.refused_now(request.from_documents(history), refused)
        return Decision(events=[to_document(e) for e in events], outgoing=(outgoing or []) if events else [])

    await decide_and_save(service.events, pending_stream(student_id), commit_id, decide)
    if outgoing:
        service.runtime.relay.nudge()


class RecordNotCreatedYet(RuntimeError):
    """A decision about a record whose request still waits here for its dedupe verdict (the verdicts' consumer behind
    the reviews' one, as in a bulk intake): the consumer retries it, then dead-letters it with this reason."""


class NoRecordToDecide(ValueError):
    """A decision about a record that will never exist: dead-lettered at once (retrying cannot help)."""


async def why_no_record(service: RegistryService, student_id: str, case_id: str) -> Exception | None:
    """Why the county's decision on `case_id` finds no record of `student_id`, told from the request's pending stream
    (R14): a record is created only from a request stored here before its dedupe check was asked, so no request means
    none will come (an error, dead-lettered at once). A refused request (another rule broken after dedupe answered)
    leaves nothing to decide: None, and the decision is a no-op, as its school was told of the refusal. A request
    still waiting may yet be refused by its verdict: that is not known before the verdict, so it is retried as one
    that will come."""
    commits = await service.events.load(pending_stream(student_id))
    if not commits:
        return NoRecordToDecide(f"review case {case_id}: no enrollment request {student_id} here, so no record will "
                                "come for the county's decision")  # fmt: skip
    if state_of(commits).refused is not None:
        return None
    return RecordNotCreatedYet(f"review case {case_id}: the record {student_id} is not created yet (its request "
                               "waits for the dedupe verdict here); replay this decision once it is")  # fmt: skip


async def stated_school_year(service: RegistryService, student_id: str) -> int | None:
    """The school year the record's enrollment request names (R07: its freshman class, the year its supplementary
    number takes), read by `_id` from the request's pending stream; None for a record no request here created."""
    requested = state_of(await service.events.load(pending_stream(student_id))).requested
    return None if requested is None else requested.request.school_year


def state_of(commits: list[Document]) -> EnrollmentRequestState:
    return request.replay(request.from_documents(e for c in commits for e in c["events"]))


def pending_view(student_id: str, commits: list[Document]) -> dict[str, Any]:
    refused = state_of(commits).refused
    if refused is None:
        return {"student_id": student_id, "state": "awaiting_duplicate_check"}
    return {
        "student_id": student_id,
        "state": "refused",
        **{k: v for k, v in to_document(refused).items() if k != "type"},
    }

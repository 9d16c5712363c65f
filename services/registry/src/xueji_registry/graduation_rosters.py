"""R46 graduation rosters as a stream per school, year and segment (`graduation:{school}:{year}:{segment}`).

The school submits the roster composed from its records; the county bureau returns it with a reason (the school
submits again) or approves it. Approval graduates every student on it: on each record the school's request and the
bureau's approval are recorded, with the roster (its SHA-256) as evidence and the roster's certificate number (R08).
Each student's commits have ids derived from the roster, so an approval interrupted half-way is resumed by approving
again, and nobody is graduated twice."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from xueji_contracts.auth import OperatorClaims
from xueji_contracts.messages.registry import ComplianceState
from xueji_contracts.messages.status import StatusState
from xueji_kit.aggregates import Decision, decide_and_save, load_stream
from xueji_kit.store import Document
from xueji_registry.domain import RegistryError, RequestChange, ReviewChange
from xueji_registry.domain.change_kinds import ChangeKind
from xueji_registry.domain.compliance import Deadline, graduation_review
from xueji_registry.domain.event_base import to_document
from xueji_registry.domain.evidence import EvidenceKind, EvidenceRef
from xueji_registry.domain.graduation_review import (
    STREAMS,
    GraduationOutcomeRecorded,
    GraduationRosterSubmitted,
    NotGraduated,
    RosterReview,
    RosterStatus,
    decide_review,
    decide_submission,
    from_documents,
    nothing_to_review,
    replay,
)
from xueji_registry.domain.graduation_roster import GraduateLine, GraduationRoster
from xueji_registry.domain.periods import Segment
from xueji_registry.domain.state import CertificateKind, CertificateRecord, StudentStatus
from xueji_registry.domain.status_changes import Graduate
from xueji_registry.domain.supplementary import numbering_of
from xueji_registry.numbers.certificates import Records, certificate_places
from xueji_registry.service import RegistryService

GRADUATING_AT_ONCE = 8  # records graduated concurrently during an approval


def stream_of(school_code: str, graduation_year: int, segment: Segment) -> str:
    return f"{STREAMS}{school_code}:{graduation_year}:{segment.value}"


async def state_of(service: RegistryService, stream: str) -> RosterReview:
    return replay(from_documents(await service.events.events_of(stream)))


def _deadline_of(submitted: GraduationRosterSubmitted, stream: str, number: int) -> Deadline:
    """The county bureau's task of reviewing the `number`-th submission (R46)."""
    return graduation_review(stream, submitted.roster.school_code, submitted.roster.graduation_year, number)


async def submit(
    service: RegistryService,
    operator: OperatorClaims,
    roster: GraduationRoster,
    reason: str,
    evidence: tuple[EvidenceRef, ...],
    commit_id: str,
) -> GraduationRosterSubmitted:
    """The school submits the roster as composed now; refused while one awaits the bureau or after approval. A
    `commit_id` stored before (the request retried with its key) submits nothing again: its submission answers."""
    stream = stream_of(roster.school_code, roster.graduation_year, roster.segment)
    compliance = service.compliance
    now = datetime.now(UTC)
    decided: list[tuple[GraduationRosterSubmitted, Deadline]] = []

    def decide(history: list[Document]) -> Decision:
        state = replay(from_documents(history))
        submitted = decide_submission(state, roster, operator, reason, evidence, now)
        deadline = _deadline_of(submitted, stream, state.submissions + 1)
        decided[:] = [(submitted, deadline)]
        return Decision([to_document(submitted)], [compliance.message(deadline, ComplianceState.OPENED)])

    saved = await decide_and_save(service.events, stream, commit_id, decide)
    if not saved.stored:  # submitted before by this very request: its submission, as that commit stored it
        service.runtime.relay.nudge()
        stored = replay(from_documents(await service.events.events_until(stream, saved.version))).submission
        assert stored is not None
        return stored
    submitted, opened = decided[0]
    await compliance.arm(opened)  # the county bureau's task, overdue when the graduation window closes
    service.followed([(stream, saved.version)])
    service.runtime.relay.nudge()
    return submitted


async def review(
    service: RegistryService,
    stream: str,
    reviewer: OperatorClaims,
    approve: bool,
    reason: str,
    commit_id: str | None = None,
) -> dict[str, Any]:
    """The county bureau's decision on the submitted roster; approving graduates everyone on it. Approving an
    approved roster again resumes graduations an interruption left undone. A `commit_id` (default: one per
    submission) stored before, the request retried with its key, reviews nothing again: it answers as its review."""
    loaded = await load_stream(service.events, stream)
    # Reviewed before by this very request: answered from that review, not from the roster as it is now (the school
    # may have submitted it again since, and that submission awaits a review of its own).
    if commit_id is not None and commit_id in loaded.commit_ids:
        return await _reviewed_at(service, stream, loaded.commit_ids[commit_id], reviewer)
    state = replay(from_documents(list(loaded.history)))
    if state.status is RosterStatus.APPROVED and approve and state.submission is not None:
        return await _graduate_all(service, stream, state.submission, reviewer)
    if state.status is not RosterStatus.SUBMITTED or state.submission is None:
        raise nothing_to_review(state)
    submissions = state.submissions
    compliance = service.compliance
    deadline = _deadline_of(state.submission, stream, submissions)  # this submission's review task
    now = datetime.now(UTC)

    def decide(history: list[Document]) -> Decision:
        reviewed = decide_review(replay(from_documents(history)), reviewer, approve, reason, now, submissions)
        return Decision([to_document(reviewed)], [compliance.message(deadline, ComplianceState.MET)])

    saved = await decide_and_save(service.events, stream, commit_id or f"reviewed:{submissions}", decide)
    if saved.stored:
        await compliance.disarm(deadline)
        service.followed([(stream, saved.version)])
        service.runtime.relay.nudge()
    state = await state_of(service, stream)
    wanted = RosterStatus.APPROVED if approve else RosterStatus.RETURNED
    if state.status is not wanted:  # another reviewer decided this submission first
        raise nothing_to_review(state)
    if approve and state.submission is not None:
        return await _graduate_all(service, stream, state.submission, reviewer)
    return {"status": state.status.value, "graduated": [], "not_graduated": []}


async def _reviewed_at(service: RegistryService, stream: str, version: int, reviewer: OperatorClaims) -> dict[str, Any]:
    """The answer of the review stored at `version`: the roster it approved (graduations resumed, as approving again
    resumes them), or the roster it returned."""
    then = replay(from_documents(await service.events.events_until(stream, version)))
    if then.status is RosterStatus.APPROVED and then.submission is not None:
        return await _graduate_all(service, stream, then.submission, reviewer)
    return {"status": then.status.value, "graduated": [], "not_graduated": []}


def evidence_of(roster: GraduationRoster, digest: str) -> EvidenceRef:
    uri = f"xueji:graduation-roster/{roster.school_code}/{roster.graduation_year}/{roster.segment.value}"
    return EvidenceRef(kind=EvidenceKind.GRADUATION_ROSTER, uri=uri, sha256=digest)


async def _graduate_all(
    service: RegistryService, stream: str, submission: GraduationRosterSubmitted, reviewer: OperatorClaims
) -> dict[str, Any]:
    roster, school = submission.roster, submission.operator
    evidence = evidence_of(roster, submission.sha256)
    gate = asyncio.Semaphore(GRADUATING_AT_ONCE)
    records = await _records(service, roster, gate)
    places = await certificate_places(service.sequences, roster, records, service.rules.layout)

    async def one(line: GraduateLine) -> tuple[GraduateLine, CertificateRecord | str]:
        state, place = records[line.student_id], places.get(line.student_id)
        async with gate:
            return line, await _graduate(service, roster, line, state, place, school, reviewer, evidence)

    results = await asyncio.gather(*(one(line) for line in roster.graduates))
    graduated = {line.student_id: c.number for line, c in results if isinstance(c, CertificateRecord)}
    not_graduated = [NotGraduated(student_id=line.student_id, reason=p) for line, p in results if isinstance(p, str)]
    numbers = {student: number for student, number in graduated.items() if number is not None}
    # The outcome in the roster's own stream, so reading the roster does not read every graduate's record.
    outcome = GraduationOutcomeRecorded(graduated=len(graduated), not_graduated=tuple(not_graduated),
                                        certificates=numbers, at=datetime.now(UTC))  # fmt: skip
    commit = f"outcome:{len(graduated)}:{len(not_graduated)}"  # a resumption that changed nothing adds nothing
    await decide_and_save(service.events, stream, commit, lambda _: Decision([to_document(outcome)]))
    return {
        "status": RosterStatus.APPROVED.value,
        "graduated": list(graduated),
        "certificates": numbers,
        "not_graduated": [n.model_dump(mode="json") for n in not_graduated],
    }


async def _records(service: RegistryService, roster: GraduationRoster, gate: asyncio.Semaphore) -> Records:
    async def load(student_id: str) -> StudentStatus | None:
        async with gate:
            return await service.load(student_id)

    found = await asyncio.gather(*(load(line.student_id) for line in roster.graduates))
    return {line.student_id: record for line, record in zip(roster.graduates, found, strict=True)}


async def _graduate(
    service: RegistryService,
    roster: GraduationRoster,
    line: GraduateLine,
    state: StudentStatus | None,
    certificate: int | None,
    school: OperatorClaims,
    reviewer: OperatorClaims,
    evidence: EvidenceRef,
) -> CertificateRecord | str:
    """Graduate one student (its record `state` as the approval found it) on the approved roster with the
    `certificate`-th number of its series (R08): the certificate issued, else why not (the record's refusal)."""
    commit = f"{line.student_id}:graduation:{evidence.sha256[:16]}"  # commit ids are unique across streams
    if state is not None and (issued := _issued_here(state, roster)) is not None:
        return issued  # graduated by this approval before an interruption
    if certificate is None and service.rules.layout is not None:
        now = state.state.value if state else "missing"
        return f"R46: the record is {now}, no longer in {roster.school_code}'s graduation grade"
    details = Graduate(graduation_year=roster.graduation_year, numbering=numbering_of(roster.school_code))
    why = f"on the {roster.graduation_year} graduation roster, place {line.sequence}"
    try:
        request = RequestChange(
            operator=school, reason=why, evidence=(evidence,), details=details, certificate_sequence=certificate
        )
        await service.execute(line.student_id, f"{commit}:request", request)
        state = await service.load(line.student_id)
        pending = next((p for p in state.pending if p.kind is ChangeKind.GRADUATE), None) if state else None
        if pending is not None:
            approval = ReviewChange(
                operator=reviewer,
                reason="graduation roster approved by the county bureau",
                evidence=(evidence,),
                change_id=pending.change_id,
                approve=True,
                certificate_sequence=certificate,  # drawn for the roster (the approval is when it takes effect)
            )
            await service.execute(line.student_id, f"{commit}:approve", approval)
    except RegistryError as exc:
        return f"{exc.rule}: {exc.reason}"
    state = await service.load(line.student_id)
    if state is None or (issued := _issued_here(state, roster)) is None:
        now = state.state.value if state else "missing"
        return f"R46: the record is {now}, without a graduation certificate of {roster.school_code}"
    return issued


def _issued_here(state: StudentStatus, roster: GraduationRoster) -> CertificateRecord | None:
    """The graduation certificate the roster's school issued on this record, once graduated."""
    if state.state is not StatusState.GRADUATED:
        return None
    kind, school = CertificateKind.GRADUATION, roster.school_code
    return next((c for c in state.certificates if c.kind is kind and c.school_code == school), None)

"""R46 graduation rosters as a stream per school, year and segment (`graduation:{school}:{year}:{segment}`).

The school submits the roster composed from its records; the county bureau returns it with a reason (the school
submits again) or approves it. Approval graduates every student on it: on each record the school's request and the
bureau's approval are recorded, with the roster (its SHA-256) as evidence and the roster's certificate number (R08).
Each student's commits have ids derived from the roster, so an approval interrupted half-way is resumed by approving
again, and nobody is graduated twice."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from xueji_contracts.auth import OperatorClaims
from xueji_contracts.messages.registry import ComplianceState
from xueji_contracts.messages.status import StatusState
from xueji_kit.aggregates import Decision, decide_and_save
from xueji_kit.store import Document
from xueji_registry.domain import RegistryError, RequestChange, ReviewChange
from xueji_registry.domain.change_kinds import ChangeKind
from xueji_registry.domain.compliance import Deadline, graduation_review
from xueji_registry.domain.errors import Refused
from xueji_registry.domain.evidence import EvidenceKind, EvidenceRef
from xueji_registry.domain.graduation_roster import GraduateLine, GraduationRoster
from xueji_registry.domain.periods import Segment
from xueji_registry.domain.status_changes import Graduate
from xueji_registry.service import RegistryService
from xueji_registry.supplementary import numbering_of

GRADUATING_AT_ONCE = 8  # records graduated concurrently during an approval


class RosterStatus(StrEnum):
    DRAFT = "draft"  # nothing submitted yet: the roster as it would be composed now
    SUBMITTED = "submitted"  # awaiting the county bureau
    RETURNED = "returned"  # the bureau sent it back with a reason; the school submits again
    APPROVED = "approved"


def stream_of(school_code: str, graduation_year: int, segment: Segment) -> str:
    return f"graduation:{school_code}:{graduation_year}:{segment.value}"


def status_of(history: list[Document]) -> tuple[RosterStatus, Document | None, Document | None]:
    """The roster's status, its latest submission and the latest review, from the stream's events."""
    status, submission, review = RosterStatus.DRAFT, None, None
    for event in history:
        match event.get("type"):
            case "graduation_roster_submitted":
                status, submission, review = RosterStatus.SUBMITTED, event, None
            case "graduation_roster_returned":
                status, review = RosterStatus.RETURNED, event
            case "graduation_roster_approved":
                status, review = RosterStatus.APPROVED, event
    return status, submission, review


async def history_of(service: RegistryService, stream: str) -> list[Document]:
    return [e for c in await service.events.load(stream) for e in c["events"]]


def _actor(operator: OperatorClaims) -> dict[str, str]:
    return {"operator_id": operator.sub, "role": operator.role.value, "code": operator.code}


async def submit(
    service: RegistryService,
    operator: OperatorClaims,
    roster: GraduationRoster,
    reason: str,
    evidence: tuple[EvidenceRef, ...],
) -> Document:
    """The school submits the roster as composed now; refused while one awaits the bureau or after approval."""
    entry = {
        "type": "graduation_roster_submitted",
        "roster": roster.model_dump(mode="json"),
        "sha256": roster.digest(),
        "operator": operator.model_dump(mode="json"),
        "by": _actor(operator),
        "at": datetime.now(UTC).isoformat(),
        "reason": reason,
        "evidence": [e.model_dump(mode="json") for e in evidence],
    }

    stream = stream_of(roster.school_code, roster.graduation_year, roster.segment)
    compliance = service.compliance
    opened: list[Deadline] = []

    def decide(history: list[Document]) -> Decision:
        status, submission, review = status_of(history)
        if status is RosterStatus.SUBMITTED and submission is not None:
            raise Refused("R46", f"the roster submitted on {submission['at'][:10]} awaits the county bureau")
        if status is RosterStatus.APPROVED and review is not None:
            raise Refused("R46", f"the roster was approved on {review['at'][:10]}")
        deadline = graduation_review(stream, roster.school_code, roster.graduation_year, _submissions(history) + 1)
        opened[:] = [deadline]
        return Decision([entry], [compliance.message(deadline, ComplianceState.OPENED)])

    saved = await decide_and_save(service.events, stream, f"submitted:{uuid.uuid4()}", decide)
    if saved.stored and opened:
        await compliance.arm(opened[0])  # the county bureau's task, overdue when the graduation window closes
        service.followed([(stream, saved.version)])
    service.runtime.relay.nudge()
    return entry


def _submissions(history: list[Document]) -> int:
    return sum(1 for e in history if e.get("type") == "graduation_roster_submitted")


def _deadline_of(submission: Document, stream: str, number: int) -> Deadline:
    roster = submission["roster"]
    return graduation_review(stream, roster["school_code"], int(roster["graduation_year"]), number)


async def awaits_review(service: RegistryService, stream: str, submission: str) -> bool:
    """For the scheduler at the deadline: is this submission of the roster still waiting for the bureau?"""
    history = await history_of(service, stream)
    status, _, _ = status_of(history)
    return status is RosterStatus.SUBMITTED and str(_submissions(history)) == submission


async def review(
    service: RegistryService, stream: str, reviewer: OperatorClaims, approve: bool, reason: str
) -> dict[str, Any]:
    """The county bureau's decision on the submitted roster; approving graduates everyone on it. Approving an
    approved roster again resumes graduations an interruption left undone."""
    history = await history_of(service, stream)
    status, submission, latest = status_of(history)
    if status is RosterStatus.APPROVED and approve and submission is not None:
        return await _graduate_all(service, stream, submission, reviewer)
    if status is not RosterStatus.SUBMITTED:
        raise _nothing_to_review(status, latest)
    assert submission is not None  # a submitted roster has its submission
    submissions = _submissions(history)
    compliance = service.compliance
    deadline = _deadline_of(submission, stream, submissions)  # this submission's review task
    event = {
        "type": "graduation_roster_approved" if approve else "graduation_roster_returned",
        "by": _actor(reviewer),
        "operator": reviewer.model_dump(mode="json"),
        "at": datetime.now(UTC).isoformat(),
        "reason": reason,
    }

    def decide(history: list[Document]) -> Decision:
        status, submission, review = status_of(history)
        if status is not RosterStatus.SUBMITTED or submission is None or _submissions(history) != submissions:
            raise _nothing_to_review(status, review)
        met = compliance.message(deadline, ComplianceState.MET)
        return Decision([{**event, "sha256": submission["sha256"]}], [met])

    saved = await decide_and_save(service.events, stream, f"reviewed:{submissions}", decide)
    if saved.stored:
        await compliance.disarm(deadline)
        service.followed([(stream, saved.version)])
        service.runtime.relay.nudge()
    status, submission, latest = status_of(await history_of(service, stream))
    wanted = RosterStatus.APPROVED if approve else RosterStatus.RETURNED
    if status is not wanted:  # another reviewer decided this submission first
        raise _nothing_to_review(status, latest)
    if approve and submission is not None:
        return await _graduate_all(service, stream, submission, reviewer)
    return {"status": status.value, "graduated": [], "not_graduated": []}


def _nothing_to_review(status: RosterStatus, review: Document | None) -> Refused:
    when = f" on {review['at'][:10]}" if review else ""
    return Refused("R46", f"no roster awaits review: it is {status.value}{when}")


def evidence_of(roster: GraduationRoster, digest: str) -> EvidenceRef:
    uri = f"xueji:graduation-roster/{roster.school_code}/{roster.graduation_year}/{roster.segment.value}"
    return EvidenceRef(kind=EvidenceKind.GRADUATION_ROSTER, uri=uri, sha256=digest)


def graduated_count(history: list[Document]) -> int | None:
    """How many on the approved roster were graduated, as its last approval (or resumption) found; None before."""
    outcomes = [e for e in history if e.get("type") == "graduation_roster_outcome"]
    return int(outcomes[-1]["graduated"]) if outcomes else None


async def _graduate_all(
    service: RegistryService, stream: str, submission: Document, reviewer: OperatorClaims
) -> dict[str, Any]:
    roster = GraduationRoster.model_validate(submission["roster"])
    school = OperatorClaims.model_validate(submission["operator"])
    evidence = evidence_of(roster, submission["sha256"])
    gate = asyncio.Semaphore(GRADUATING_AT_ONCE)

    async def one(line: GraduateLine) -> tuple[GraduateLine, str | None]:
        async with gate:
            return line, await _graduate(service, roster, line, school, reviewer, evidence)

    results = await asyncio.gather(*(one(line) for line in roster.graduates))
    graduated = [line.student_id for line, problem in results if problem is None]
    not_graduated = [{"student_id": line.student_id, "reason": p} for line, p in results if p is not None]
    # The outcome in the roster's own stream, so reading the roster does not read every graduate's record.
    outcome = {"type": "graduation_roster_outcome", "graduated": len(graduated), "not_graduated": not_graduated,
               "at": datetime.now(UTC).isoformat()}  # fmt: skip
    commit = f"outcome:{len(graduated)}:{len(not_graduated)}"  # a resumption that changed nothing adds nothing
    await decide_and_save(service.events, stream, commit, lambda _: Decision([outcome]))
    return {"status": RosterStatus.APPROVED.value, "graduated": graduated, "not_graduated": not_graduated}


async def _graduate(
    service: RegistryService,
    roster: GraduationRoster,
    line: GraduateLine,
    school: OperatorClaims,
    reviewer: OperatorClaims,
    evidence: EvidenceRef,
) -> str | None:
    """Graduate one student on the approved roster; None when graduated, else why not (the record's refusal)."""
    details = Graduate(
        graduation_year=roster.graduation_year,
        numbering=numbering_of(roster.school_code),
        certificate_sequence=line.sequence,
    )
    commit = f"{line.student_id}:graduation:{evidence.sha256[:16]}"  # commit ids are unique across streams
    why = f"on the {roster.graduation_year} graduation roster, place {line.sequence}"
    try:
        request = RequestChange(operator=school, reason=why, evidence=(evidence,), details=details)
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
            )
            await service.execute(line.student_id, f"{commit}:approve", approval)
    except RegistryError as exc:
        return f"{exc.rule}: {exc.reason}"
    state = await service.load(line.student_id)
    numbered = line.certificate_number is None or (state is not None and state.certificate(line.certificate_number))
    if state is None or state.state is not StatusState.GRADUATED or not numbered:
        now = state.state.value if state else "missing"
        return f"R46: the record is {now}, without certificate {line.certificate_number}"
    return None

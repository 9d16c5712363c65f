"""R46 graduation rosters over HTTP: the school reads the roster composed from its records and submits it; the
county bureau of the school's county returns it or approves it, which graduates everyone on it (R08 numbers)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Path, Request, status
from pydantic import BaseModel, ConfigDict, Field

from xueji_contracts.auth import OperatorClaims, Role
from xueji_contracts.messages.status import StatusState
from xueji_kit.errors import RuleRefused
from xueji_kit.idempotency import IdempotencyKey
from xueji_kit.security import Operator, require_jurisdiction
from xueji_registry import graduation_rosters
from xueji_registry.api.commits import roster_commit
from xueji_registry.api.common import service_of
from xueji_registry.domain.errors import Refused
from xueji_registry.domain.evidence import EvidenceRef
from xueji_registry.domain.graduation_review import GraduationRosterSubmitted, RosterStatus
from xueji_registry.domain.graduation_roster import GraduationRoster, compose
from xueji_registry.domain.periods import Segment
from xueji_registry.numbers.certificates import certificate_scope
from xueji_registry.service import RegistryService

router = APIRouter(prefix="/v1", tags=["rosters"])
School = Annotated[str, Path(pattern=r"^\d{10}$", description="10-digit school code")]
Year = Annotated[int, Path(ge=2000, le=2099, description="the graduation year")]
ROSTER = "/rosters/graduation/{school_code}/{graduation_year}/{segment}"
PATH_FIELDS = ("school_code", "graduation_year", "segment")
T = TypeVar("T")


@dataclass(frozen=True)
class RosterAt:
    """Which roster a route is about, from its path: a school's graduation roster of one year and segment."""

    school_code: str
    graduation_year: int
    segment: Segment

    @property
    def stream(self) -> str:
        return graduation_rosters.stream_of(self.school_code, self.graduation_year, self.segment)


def _roster_at(school_code: School, graduation_year: Year, segment: Segment) -> RosterAt:
    return RosterAt(school_code, graduation_year, segment)


At = Annotated[RosterAt, Depends(_roster_at)]


def _only(role: Role, operator: OperatorClaims, school_code: str, refusal: str) -> None:
    """R46 names who acts on a roster: its school submits it, the county bureau of the school reviews it."""
    require_jurisdiction(operator, school_code, at_least=role)
    if operator.role is not role:
        raise HTTPException(status.HTTP_403_FORBIDDEN, refusal)


async def _unless_refused(step: Awaitable[T]) -> T:
    """The roster step's result; a refusal (R46) is a 409 naming the rule, the reason and the field."""
    try:
        return await step
    except Refused as exc:
        detail = {"rule": exc.rule, "reason": exc.reason, "field": exc.field}
        raise HTTPException(status.HTTP_409_CONFLICT, detail) from None


async def _compose(request: Request, at: RosterAt, left_off: dict[str, str]) -> GraduationRoster:
    school_code = at.school_code
    found = await service_of(request).records_under(school_code)
    try:
        layout = service_of(request).rules.layout
        if layout is not None:  # R08: a school the layout has no certificate number for is refused before approval
            certificate_scope(at.segment, at.graduation_year, school_code, layout)
        return compose(found, school_code, at.graduation_year, at.segment, left_off)
    except Refused as exc:
        where = "path" if exc.field in PATH_FIELDS else "body"
        raise RuleRefused(exc.rule, exc.reason, exc.field, where) from None


@router.get(ROSTER, summary="R46: the graduation roster — a draft, or as submitted with its review and outcomes")
async def show(at: At, operator: Operator, request: Request) -> dict[str, Any]:
    require_jurisdiction(operator, at.school_code, at_least=Role.SCHOOL)
    service = service_of(request)
    roster = await graduation_rosters.state_of(service, at.stream)
    submission, review = roster.submission, roster.review
    if submission is None:
        draft = await _compose(request, at, {})
        return {"rule": "R46", "status": roster.status.value, "roster": draft.model_dump(mode="json")}
    answer: dict[str, Any] = {
        "rule": "R46",
        "status": roster.status.value,
        "roster": roster.numbered(submission.roster).model_dump(mode="json"),
        "sha256": submission.sha256,
        "submitted": submission.model_dump(mode="json", include={"at", "by", "reason"}),
        "review": review.model_dump(mode="json", include={"at", "by", "reason"}) if review else None,
    }
    if roster.status is RosterStatus.APPROVED:
        counted = roster.graduated
        answer["graduated"] = counted if counted is not None else await _graduated_on(service, submission)
    return answer


async def _graduated_on(service: RegistryService, submission: GraduationRosterSubmitted) -> int:
    """An approval under way (or interrupted) has no outcome yet: count the graduates in their records."""
    gate = asyncio.Semaphore(16)

    async def graduated(student_id: str) -> bool:
        async with gate:
            record = await service.load(student_id)
        return record is not None and record.state is StatusState.GRADUATED

    found = await asyncio.gather(*(graduated(line.student_id) for line in submission.roster.graduates))
    return sum(found)


class LeftOffBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)  # spaces alone are no reason (R12)

    student_id: str = Field(min_length=1)
    reason: str = Field(min_length=1, max_length=500, description="e.g. requirements not met: completion instead")


class SubmissionBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)  # spaces alone are no reason (R12)

    left_off: list[LeftOffBody] = Field(default=[], description="graduation-grade students not on the roster")
    reason: str = Field(default="graduation roster submitted", min_length=1, max_length=500)
    evidence: tuple[EvidenceRef, ...] = Field(default=(), description="the signed paper roster (annex 8), if any")


@router.post(f"{ROSTER}/submission", status_code=status.HTTP_201_CREATED, summary="R46: the school submits")
async def submit(
    at: At, body: SubmissionBody, operator: Operator, request: Request, key: IdempotencyKey = None
) -> dict[str, Any]:
    _only(Role.SCHOOL, operator, at.school_code, "R46: the school submits its own graduation roster")
    left_off = {line.student_id: line.reason for line in body.left_off}
    roster = await _compose(request, at, left_off)
    service = service_of(request)
    commit = roster_commit("submitted", operator, at.stream, key) if key else f"submitted:{uuid.uuid4()}"
    step = graduation_rosters.submit(service, operator, roster, body.reason, body.evidence, commit)
    entry = await _unless_refused(step)
    return {
        "rule": "R46",
        "status": RosterStatus.SUBMITTED.value,
        "roster": entry.roster.model_dump(mode="json"),
        "sha256": entry.sha256,
    }


class ReviewBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)  # spaces alone are no reason (R12)

    approve: bool
    reason: str = Field(min_length=1, max_length=500)


@router.post(f"{ROSTER}/review", summary="R46: the county bureau approves (graduating everyone on it) or returns")
async def review(
    at: At, body: ReviewBody, operator: Operator, request: Request, key: IdempotencyKey = None
) -> dict[str, Any]:
    _only(Role.COUNTY, operator, at.school_code, "R46: the county bureau of the school approves its roster")
    commit = roster_commit("reviewed", operator, at.stream, key) if key else None  # None: one per submission
    step = graduation_rosters.review(service_of(request), at.stream, operator, body.approve, body.reason, commit)
    outcome = await _unless_refused(step)
    return {"rule": "R46", **outcome}

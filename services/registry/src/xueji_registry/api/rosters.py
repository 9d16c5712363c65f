"""R54 annual rosters over HTTP: the school (or a bureau above it) reads the year's new-student roster and
increase/decrease register composed from the records; the school submits them once, which meets the deadline."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Request, status
from pydantic import BaseModel, ConfigDict, Field

from xueji_contracts.auth import Role
from xueji_kit.idempotency import IdempotencyKey
from xueji_kit.security import Operator, require_jurisdiction
from xueji_registry.api.commits import roster_commit
from xueji_registry.api.common import service_of
from xueji_registry.domain.annual_roster import AnnualRoster, compose
from xueji_registry.domain.annual_roster_stream import AnnualRosterSubmitted
from xueji_registry.domain.compliance import annual_roster
from xueji_registry.domain.errors import Refused
from xueji_registry.domain.evidence import EvidenceRef

router = APIRouter(prefix="/v1", tags=["rosters"])
School = Annotated[str, Path(pattern=r"^\d{10}$", description="10-digit school code")]
Year = Annotated[int, Path(ge=2000, le=2099, description="the school year by the calendar year it starts in")]


async def _compose(request: Request, school_code: str, school_year: int) -> AnnualRoster:
    return compose(school_code, school_year, await service_of(request).streams_ever_at(school_code))


def _answered(submission: AnnualRosterSubmitted) -> dict[str, Any]:
    """The submission as this route has always answered it: its stored form under the type name it was stored
    with before issue 17 (the answer is a contract of its own, not the event store's)."""
    return {**submission.model_dump(mode="json"), "type": "roster_submitted"}


@router.get("/rosters/annual/{school_code}/{school_year}", summary="R54: the school year's annual rosters")
async def show(school_code: School, school_year: Year, operator: Operator, request: Request) -> dict[str, Any]:
    require_jurisdiction(operator, school_code, at_least=Role.SCHOOL)
    roster = await _compose(request, school_code, school_year)
    deadline = annual_roster(school_code, school_year, service_of(request).rules.roster_months)
    submission = await service_of(request).rosters.submission_of(school_code, school_year)
    return {
        **roster.model_dump(mode="json"),
        "counts": roster.counts,
        "rule": "R54",
        "due_at": deadline.due_at.isoformat(),
        "submitted": _answered(submission) if submission else None,
    }


class SubmissionBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)  # spaces alone are no reason (R12)

    reason: str = Field(default="annual rosters submitted", min_length=1, max_length=500)
    evidence: tuple[EvidenceRef, ...] = Field(default=(), description="the signed rosters, if filed on paper too")


@router.post(
    "/rosters/annual/{school_code}/{school_year}/submission",
    status_code=status.HTTP_201_CREATED,
    summary="R54: the school submits its annual rosters to the county bureau",
)
async def submit(
    school_code: School,
    school_year: Year,
    body: SubmissionBody,
    operator: Operator,
    request: Request,
    key: IdempotencyKey = None,
) -> dict[str, Any]:
    require_jurisdiction(operator, school_code, at_least=Role.SCHOOL)
    if operator.role is not Role.SCHOOL:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "R54: the school submits its own rosters")
    roster = await _compose(request, school_code, school_year)
    rosters = service_of(request).rosters
    stream = rosters.deadline(school_code, school_year).subject_id
    commit = roster_commit("submitted", operator, stream, key) if key else f"submitted:{uuid.uuid4()}"
    try:
        return _answered(await rosters.submit(operator, roster, body.reason, body.evidence, commit))
    except Refused as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, {"rule": exc.rule, "reason": exc.reason, "field": None}) from None

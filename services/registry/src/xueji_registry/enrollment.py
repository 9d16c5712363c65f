"""Enrollment of a student at a school: the request, its pending stream, and the dedupe check it asks for."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from xueji_contracts.auth import OperatorClaims
from xueji_contracts.envelope import envelop
from xueji_contracts.messages.dedupe import CheckPurpose, CheckRequested
from xueji_contracts.text import CONTROL, REASON, plain
from xueji_contracts.topics import DEDUPE_CHECK
from xueji_kit.aggregates import Decision, decide_and_save
from xueji_kit.store import Document, NewStream, Outgoing
from xueji_registry.domain import BasicInfo, Gender, Segment, StudentIdentity
from xueji_registry.domain.person import checked_id_number
from xueji_registry.service import RegistryService


class EnrollmentRequest(BaseModel):
    """What a school submits; an invalid ID number is refused naming `id_number` (R06)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    school_code: str = Field(pattern=r"^\d{10}$", description="10-digit school code (county code + 4 digits)")
    name: str = Field(min_length=1, max_length=50)
    id_number: str | None = Field(default=None, description="18-character resident ID number, if obtainable")
    gender: Gender
    birth_date: date
    grade: int = Field(ge=1, le=12)
    school_year: int = Field(ge=2000, le=2099)
    segment: Segment | None = Field(default=None, description="default: by grade (1-6 primary, 7-9 junior)")
    admitted_on: date | None = Field(default=None, description="default: today")
    basic: BasicInfo = BasicInfo()

    @field_validator("id_number")
    @classmethod
    def _valid_id(cls, value: str | None) -> str | None:
        return checked_id_number(value or None)

    @field_validator("name")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        return plain(value)  # also for a spreadsheet's cells, which no JSON check sees

    @field_validator("basic", mode="before")
    @classmethod
    def _plain_basic(cls, value: Any) -> Any:
        if isinstance(value, dict):
            for key, given in value.items():
                for text in given if isinstance(given, list | tuple) else [given]:
                    if isinstance(text, str) and CONTROL.search(text):
                        raise ValueError(f"{key}: {REASON}")
        return value

    def identity(self) -> StudentIdentity:
        return StudentIdentity(name=self.name, id_number=self.id_number, gender=self.gender, birth_date=self.birth_date)

    def the_segment(self) -> Segment:
        if self.segment is not None:
            return self.segment
        return Segment.PRIMARY if self.grade <= 6 else Segment.JUNIOR if self.grade <= 9 else Segment.SENIOR


def pending_stream(student_id: str) -> str:
    return f"enrollment:{student_id}"


def student_of(correlation_id: uuid.UUID) -> str:
    """The student id a dedupe verdict answers: the request's correlation id is the id's own UUID."""
    return f"stu_{correlation_id.hex}"


def _request(
    province: str, body: EnrollmentRequest, operator: OperatorClaims, correlation: uuid.UUID, now: datetime
) -> NewStream:
    """The pending record of one enrollment and the dedupe check it asks for (R01, R14)."""
    student_id = student_of(correlation)
    check = CheckRequested(
        student_id=student_id,
        school_code=body.school_code,
        name=body.name,
        id_number=body.id_number,
        gender=body.gender.value,
        birth_date=body.birth_date,
        guardians=body.basic.guardian_names(),
        household_register=body.basic.household_register,
        purpose=CheckPurpose.CREATION,
    )
    message = envelop(check, producer="registry", province=province, occurred_at=now, correlation_id=correlation)
    event = {
        "type": "EnrollmentRequested",
        "at": now.isoformat(),
        "by": operator.model_dump(mode="json"),
        "request": body.model_dump(mode="json"),
        "reason": "first enrollment by the school",
    }
    outgoing = [Outgoing(DEDUPE_CHECK.name, str(correlation), message)]
    return NewStream(f"{student_id}:requested", pending_stream(student_id), [event], outgoing)


async def request_enrollment(
    service: RegistryService, body: EnrollmentRequest, operator: OperatorClaims, correlation: uuid.UUID | None = None
) -> tuple[str, bool]:
    """Store the request as the pending record and ask dedupe through the outbox (R01, R14); no status yet.

    A given `correlation` (a bulk row's, derived from the row) makes the request idempotent: asking again for the
    same correlation stores and asks nothing. Returns the student id and whether this call stored the request."""
    correlation = correlation or uuid.uuid4()
    now = datetime.now(UTC)
    new = _request(service.province, body, operator, correlation, now)
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
        service.recent.keep(student_of(correlation), new.events[0])
    return student_of(correlation), stored


async def request_enrollments(
    service: RegistryService, requests: list[tuple[EnrollmentRequest, uuid.UUID]], operator: OperatorClaims
) -> list[tuple[str, bool]]:
    """Many requests (a bulk import's rows, each with its derived correlation) in a few round trips in all."""
    now = datetime.now(UTC)
    streams = [_request(service.province, b, operator, c, now) for b, c in requests]
    stored = await service.events.start_many(streams, now)
    service.runtime.relay.nudge()
    for (_, correlation), stream, new in zip(requests, streams, stored, strict=True):
        if new:
            service.recent.keep(student_of(correlation), stream.events[0])
    return [(student_of(c), new) for (_, c), new in zip(requests, stored, strict=True)]


async def record_refusal(service: RegistryService, student_id: str, commit_id: str, refusal: dict[str, Any]) -> None:
    """The request ends refused (R01 duplicate or another rule); kept in the pending stream as history."""
    event = {"type": "EnrollmentRefused", "at": datetime.now(UTC).isoformat(), **refusal}
    await decide_and_save(service.events, pending_stream(student_id), commit_id, lambda _: Decision(events=[event]))


def pending_view(student_id: str, commits: list[Document]) -> dict[str, Any]:
    events = [e for c in commits for e in c["events"]]
    refused = next((e for e in events if e["type"] == "EnrollmentRefused"), None)
    if refused is None:
        return {"student_id": student_id, "state": "awaiting_duplicate_check"}
    return {"student_id": student_id, "state": "refused", **{k: v for k, v in refused.items() if k != "type"}}

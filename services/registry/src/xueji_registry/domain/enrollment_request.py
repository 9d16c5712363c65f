"""R01, R06, R14: a school's request to enroll a student as a typed aggregate (`enrollment:{student_id}`).

The request is stored first, as the stream's only event until dedupe answers; a refusal (R01 duplicate, or a rule
the record's creation broke) ends it and stays as history. A request that is not refused becomes the student's
record, in the record's own stream.

Stored events keep the shape the dict events had: `by` the operator's claims, `request` the body as submitted.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import reduce
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    TypeAdapter,
    ValidationInfo,
    field_validator,
    model_serializer,
)

from xueji_contracts.auth import OperatorClaims
from xueji_contracts.calendar.deadlines import local_date
from xueji_contracts.identity import birth_date_of
from xueji_contracts.text import CONTROL, REASON, plain
from xueji_registry.domain.dates import calendar_date
from xueji_registry.domain.errors import Refused
from xueji_registry.domain.event_base import StreamEvent, StreamEvents, read_back
from xueji_registry.domain.periods import Segment, school_year_start
from xueji_registry.domain.person import (
    BasicInfo,
    Gender,
    PersonFacts,
    StudentIdentity,
    checked_id_number,
    person_facts,
    written_name,
)

FIRST_ENROLLMENT = "first enrollment by the school"
# A character a file lost on its way: a spreadsheet saved as GBK text writes a rare one (䶮) as "?", and text decoded
# with the wrong code page shows U+FFFD. No name has either.
LOST_CHARACTER = re.compile("[?？\ufffd]")
LOST = (
    "contains a character the file lost (? or \ufffd): a rare character does not survive a CSV saved as GBK; "
    "save the sheet as CSV UTF-8 or .xlsx and type the name again if needed"
)
NO_LETTER = "has no letter or character: a number or a mark in the name column is not a name"
# The age a pupil of grade 1 has when the school year begins (six by 31 August); grade g, g + 5. A pupil a few years
# older (started late, repeated, special education) or a little younger is usual; one outside these is a typo.
FIRST_GRADE_AGE = 6
YOUNGER_BY_UP_TO, OLDER_BY_UP_TO = 2, 5


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
    def _plain_name(cls, value: str, info: ValidationInfo) -> str:
        if read_back(info):
            return value  # checked when it came in, by the checks of that day
        plain(value)  # also for a spreadsheet's cells, which no JSON check sees
        if LOST_CHARACTER.search(value):
            raise ValueError(LOST)
        if not any(unicodedata.category(c).startswith("L") for c in value):
            raise ValueError(f"{value!r} {NO_LETTER}")
        return written_name(value)

    @field_validator("birth_date", "admitted_on", mode="before")
    @classmethod
    def _written_out(cls, value: Any) -> Any:
        return calendar_date(value)

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

    def person_facts(self, student_id: str) -> PersonFacts:
        return person_facts(student_id, self.school_code, self.identity(), self.basic)

    def the_segment(self) -> Segment:
        if self.segment is not None:
            return self.segment
        return Segment.PRIMARY if self.grade <= 6 else Segment.JUNIOR if self.grade <= 9 else Segment.SENIOR


class EnrollmentRequested(StreamEvent):
    type: Literal["EnrollmentRequested"] = "EnrollmentRequested"
    by: OperatorClaims
    request: EnrollmentRequest
    reason: str
    # R01: the refused requests this one follows, oldest first (its check's `refused_before`): a request correcting it
    # names them too. Stored only when there are some, so a first request keeps the shape it always had.
    refused_before: tuple[str, ...] = Field(default=(), exclude_if=lambda chain: not chain)
    # The class-sheet upload that asked it, when the upload came with an Idempotency-Key (`api/bulk.py`): the same
    # upload retried after its answer was lost tells the row as asked by it, not as asked before. Stored only when set.
    upload: str | None = Field(default=None, exclude_if=lambda upload: upload is None)

    @property
    def admitted_on(self) -> date:
        """The day the record counts from: the one the school gave, else the day it asked (China time)."""
        return self.request.admitted_on or local_date(self.at)


class EnrollmentRefused(StreamEvent):
    type: Literal["EnrollmentRefused"] = "EnrollmentRefused"
    rule: str
    reason: str
    field: str | None = None
    existing_student_id: str | None = None

    @model_serializer(mode="wrap")
    def _as_stored(self, handler: SerializerFunctionWrapHandler, info: SerializationInfo) -> dict[str, Any]:
        # An R01 refusal names no field and was stored without the key; the pending view (the 409 body) shows the
        # refusal as stored, so the key is written only when the refusal was given one.
        document: dict[str, Any] = handler(self)
        if "field" not in self.model_fields_set:
            document.pop("field", None)
        return document


RequestEvent = Annotated[EnrollmentRequested | EnrollmentRefused, Field(discriminator="type")]
_EVENTS = StreamEvents[RequestEvent](TypeAdapter(RequestEvent), {})
from_documents = _EVENTS.from_documents


@dataclass(frozen=True)
class EnrollmentRequestState:
    """The request as asked, and its refusal once refused (the first: a redelivered refusal repeats it)."""

    requested: EnrollmentRequested | None = None
    refused: EnrollmentRefused | None = None


def apply(state: EnrollmentRequestState, event: RequestEvent) -> EnrollmentRequestState:
    match event:
        case EnrollmentRequested():
            return replace(state, requested=event)
        case EnrollmentRefused():
            return state if state.refused is not None else replace(state, refused=event)


def replay(events: Iterable[RequestEvent]) -> EnrollmentRequestState:
    return reduce(apply, events, EnrollmentRequestState())


def contradictions(body: EnrollmentRequest) -> list[tuple[str, str]]:
    """What a request says against itself, as (field, reason): the ID number encodes the birth date (digits 7-14)
    and the gender (the 17th digit, odd for male), so a request saying otherwise most likely holds a typo in one of
    them, as does a birth date after the school year (or the admission) begins (R14: no status on false information).

    Warnings, not refusals: R06 names what makes an ID number invalid, and these are not in it (a number issued with
    a registration error is valid and in use until it is replaced, R14's second ID number). The clerk is told in the
    answer, field by field, and corrects through R10/R11 if need be. Never a validator of the model: stored requests
    are read back with it."""
    found: list[tuple[str, str]] = []
    if body.id_number is not None:
        born = birth_date_of(body.id_number)
        if born != body.birth_date:
            found.append(("birth_date", f"{body.birth_date} is not the birth date in the ID number ({born}): "
                                        "correct whichever is wrong"))  # fmt: skip
        digit = int(body.id_number[16])
        said = Gender.MALE if digit % 2 else Gender.FEMALE
        if said is not body.gender:
            parity = "odd" if digit % 2 else "even"
            found.append(("gender", f"{body.gender.value} is not the gender in the ID number (its 17th digit, {digit}, "
                                    f"is {parity}: {said.value})"))  # fmt: skip
    starts = school_year_start(body.school_year)
    if body.birth_date > starts:
        found.append(("birth_date", f"{body.birth_date} is after the {body.school_year}-{body.school_year + 1} "
                                    "school year begins"))  # fmt: skip
    elif body.admitted_on is not None and body.birth_date > body.admitted_on:
        found.append(("birth_date", f"{body.birth_date} is after the admission on {body.admitted_on}"))
    elif (unusual := _unusual_age(body.birth_date, body.grade, body.school_year)) is not None:
        found.append(("birth_date", unusual))
    return found


def admitted_after(body: EnrollmentRequest, today: date) -> Refused | None:
    """R02: a status record is established after admission, so an admission date after `today` (the China date,
    Asia/Shanghai: the day the record's creation judges by) is refused when the request comes in, naming the field,
    rather than once dedupe has answered. Today itself is allowed. The creation keeps its own check (`creation.enroll`)
    for requests stored before this one existed."""
    if body.admitted_on is None or body.admitted_on <= today:
        return None
    reason = f"the admission date {body.admitted_on} is in the future (today is {today}, China time): R02, status is "
    return Refused("R02", reason + "established after admission", field="admitted_on")


def born_after(body: EnrollmentRequest, today: date) -> Refused | None:
    """R14: no status on false information. A birth date after `today` (the China date) is no child's: refused when the
    request comes in, naming the field (a 2030 typed for 2020). A date already past but after the school year began
    stays a warning (`contradictions`): the child exists, the grade or the date is wrong."""
    if body.birth_date <= today:
        return None
    reason = f"the birth date {body.birth_date} is in the future (today is {today}, China time): R14, no status on "
    return Refused("R14", reason + "false information", field="birth_date")


def _unusual_age(born: date, grade: int, school_year: int) -> str | None:
    """What is wrong with an age no pupil of the grade has when the school year begins, else None."""
    starts = school_year_start(school_year)
    age = starts.year - born.year - ((starts.month, starts.day) < (born.month, born.day))
    usual = FIRST_GRADE_AGE + grade - 1
    if -YOUNGER_BY_UP_TO <= age - usual <= OLDER_BY_UP_TO:
        return None
    than = f"{abs(age - usual)} years {'older' if age > usual else 'younger'} than grade {grade} usually is ({usual})"
    return (f"{born} makes the student {age} years old when the {school_year}-{school_year + 1} school year begins, "
            f"{than}: check the birth date and the grade")  # fmt: skip


def decide_request(
    body: EnrollmentRequest,
    operator: OperatorClaims,
    at: datetime,
    refused_before: tuple[str, ...] = (),
    upload: str | None = None,
) -> EnrollmentRequested:
    """A school's first enrollment of a student: stored as asked, to wait for dedupe's answer (R14), with the refused
    requests it follows (R01); `upload`: the keyed class-sheet upload asking it."""
    return EnrollmentRequested(
        at=at, by=operator, request=body, reason=FIRST_ENROLLMENT, refused_before=refused_before, upload=upload
    )


def decide_duplicate(existing_student_id: str | None, at: datetime) -> EnrollmentRefused:
    """R01: the person already has a status record; the request ends refused, naming it."""
    return EnrollmentRefused(
        at=at, rule="R01", reason="this person already has a status record", existing_student_id=existing_student_id
    )


def decide_refusal(
    rule: str, reason: str, field: str | None, existing_student_id: str | None, at: datetime
) -> EnrollmentRefused:
    """The record's creation broke a rule: the request ends refused with the rule, reason and field it named."""
    return EnrollmentRefused(at=at, rule=rule, reason=reason, field=field, existing_student_id=existing_student_id)


def decide_same_person(existing_student_id: str | None, case_id: str, at: datetime) -> EnrollmentRefused:
    """R14: the county's review found the possible duplicate the same person as a record it has, and closed the record
    created for the request; the request ends refused with it, so a school that asks again is told why."""
    than = f" as {existing_student_id}" if existing_student_id else ""
    reason = f"the county bureau's review (case {case_id}) found this the same person{than}: no second status record"
    return EnrollmentRefused(at=at, rule="R14", reason=reason, existing_student_id=existing_student_id)


def refused_now(history: Iterable[RequestEvent], refusal: EnrollmentRefused) -> list[EnrollmentRefused]:
    """The refusal to record on a request's stream: none when there is no request (a record that did not come from
    one) or it was refused already (the first refusal stands)."""
    state = replay(history)
    return [] if state.requested is None or state.refused is not None else [refusal]

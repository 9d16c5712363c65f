"""Exceptions to R27's "generally" (002 III.4 一般): only the receiving county bureau records one, as its own event.

By default a transfer outside the handling period, or in the first semester of the first grade or the last semester
of the graduation grade, is refused naming R27. The receiving county bureau may record an exception for one student
and one clause, with its written reason and evidence; an application naming it may then go ahead. A school can never
grant one, and the student keeping their grade is absolute: it has no clause to except.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from xueji_contracts.auth import OperatorClaims
from xueji_contracts.messages.transfer import Level
from xueji_transfer.domain.errors import OutsideJurisdiction, Refused
from xueji_transfer.domain.evidence import Evidence
from xueji_transfer.domain.jurisdiction import acts_as, county_code

SCHOOL = r"^\d{10}$"


class TimingClause(StrEnum):
    """The parts of R27 that say "generally"."""

    HANDLING_PERIOD = "handling_period"  # before the semester ends or within 1 month after it starts
    FIRST_GRADE_FIRST_SEMESTER = "first_grade_first_semester"
    GRADUATION_GRADE_LAST_SEMESTER = "graduation_grade_last_semester"


ABSOLUTE = {"keeps_grade": "the student keeps their grade: no repeating by transfer, and no exception to that"}


class RecordTimingException(BaseModel):
    """What the receiving county bureau asks to record; the clause is checked by `record` to name R27."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    exception_id: str = Field(min_length=1)
    operator: OperatorClaims
    clause: str = Field(min_length=1, max_length=60)
    student_id: str = Field(min_length=1)
    receiving_school: str = Field(pattern=SCHOOL)
    reason: str = Field(max_length=500)
    evidence: tuple[Evidence, ...] = ()


class TimingException(BaseModel):
    """A recorded exception to one clause of R27 for one student moving to one county."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Literal["rule_exception_recorded"] = "rule_exception_recorded"
    exception_id: str
    rule: Literal["R27"] = "R27"
    clause: TimingClause
    student_id: str
    receiving_school: str = Field(pattern=SCHOOL)
    jurisdiction: str = Field(description="the receiving county bureau that recorded it")
    recorded_by: OperatorClaims
    reason: str = Field(min_length=1)
    evidence: tuple[Evidence, ...] = Field(min_length=1)
    at: AwareDatetime


def record(command: RecordTimingException, now: datetime) -> TimingException:
    """The exception the receiving county bureau records, or a TransferError naming R27 and the field."""
    county = county_code(command.receiving_school)
    operator = command.operator
    if not acts_as(operator, Level.COUNTY, county):
        raise OutsideJurisdiction(
            "R27",
            f"only the receiving county bureau {county} may record an exception to R27; "
            f"{operator.role.value} {operator.code} may not (a school never grants one)",
            field="operator",
        )
    if command.clause in ABSOLUTE:
        raise Refused("R27", ABSOLUTE[command.clause], field="clause")
    if command.clause not in set(TimingClause):
        clauses = ", ".join(c.value for c in TimingClause)
        raise Refused("R27", f"an exception excepts one of {clauses}", field="clause")
    reason = command.reason.strip()
    if not reason:
        raise Refused("R27", "an exception gives its written reason", field="reason")
    if not command.evidence:
        raise Refused("R27", "an exception names its evidence", field="evidence")
    return TimingException(
        exception_id=command.exception_id, clause=TimingClause(command.clause), student_id=command.student_id,
        receiving_school=command.receiving_school, jurisdiction=county, recorded_by=command.operator, reason=reason,
        evidence=command.evidence, at=now,
    )  # fmt: skip


def check_named(exceptions: Iterable[TimingException], student_id: str | None, receiving_school: str) -> None:
    """An application may name only exceptions its receiving county bureau recorded for this student."""
    for exception in exceptions:
        if exception.student_id != student_id:
            raise Refused("R27", f"{exception.exception_id} was recorded for another student", field="exception_ids")
        if exception.jurisdiction != county_code(receiving_school):
            raise Refused(
                "R27",
                f"{exception.exception_id} was recorded by {exception.jurisdiction}, not the receiving county bureau",
                field="exception_ids",
            )


def excepted(exceptions: Iterable[TimingException], clause: TimingClause) -> bool:
    return any(e.clause is clause for e in exceptions)

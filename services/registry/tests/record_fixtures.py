"""What the status record's domain tests share: the clock, the school and its clerks, ID numbers, evidence, and a
record driven command by command under the reference province's rules."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from province_rules import handle

from xueji_contracts.auth import OperatorClaims, Role
from xueji_contracts.identity import check_character
from xueji_registry import domain as d

CST = ZoneInfo("Asia/Shanghai")
T0 = datetime(2024, 9, 10, 9, 0, tzinfo=CST)
SCHOOL = "3506020001"
SCHOOL_CLERK = OperatorClaims(sub="clerk-1", role=Role.SCHOOL, code=SCHOOL)
COUNTY_CLERK = OperatorClaims(sub="county-1", role=Role.COUNTY, code="350602")
PROVINCE_CLERK = OperatorClaims(sub="province-1", role=Role.PROVINCE, code="350000")
MINISTRY_CLERK = OperatorClaims(sub="moe-1", role=Role.MINISTRY, code="000000")


def resident_id(born: str = "20150315", sequence: str = "123") -> str:
    """A valid 18-digit ID number registered in SCHOOL's county."""
    first17 = "350602" + born + sequence
    return first17 + check_character(first17)


def xiaoyu() -> d.StudentIdentity:
    """The pupil most record tests enroll: a girl born 2015-03-15 in SCHOOL's county, with an ID number."""
    return d.StudentIdentity(name="林小雨", id_number=resident_id(), gender="female", birth_date=date(2015, 3, 15))


def enrollment(
    segment: d.Segment = d.Segment.PRIMARY,
    grade: int = 3,
    *,
    identity: d.StudentIdentity | None = None,
    school: str = SCHOOL,
    operator: OperatorClaims = SCHOOL_CLERK,
    admitted_on: date = date(2024, 9, 1),
) -> d.EnrollStudent:
    """The school enrolls stu-1 (dedupe found no one alike; the county's first L number)."""
    return d.EnrollStudent(
        operator=operator,
        reason="新生入学",
        student_id="stu-1",
        school_code=school,
        segment=segment,
        grade=grade,
        identity=identity or xiaoyu(),
        admitted_on=admitted_on,
        number_counter=1,
        duplicate_check=d.DuplicateCheck(outcome=d.DuplicateOutcome.CLEAR),
    )


def evidence(*kinds: d.EvidenceKind) -> tuple[d.EvidenceRef, ...]:
    return tuple(
        d.EvidenceRef(kind=k, uri=f"s3://evidence/{k.value}.pdf", sha256=hashlib.sha256(k.encode()).hexdigest())
        for k in kinds
    )


def suspension_request(
    operator: OperatorClaims = SCHOOL_CLERK,
    reason: str = "因病休学",
    cause: d.SuspensionCause = d.SuspensionCause.ILLNESS,
    proof: d.EvidenceKind = d.EvidenceKind.MEDICAL_CERTIFICATE,
) -> d.RequestChange:
    """The school asks to suspend the student for the autumn term of 2024, with the application and `proof`."""
    return d.RequestChange(
        operator=operator,
        reason=reason,
        evidence=evidence(d.EvidenceKind.SUSPENSION_APPLICATION, proof),
        details=d.Suspend(cause=cause, term=d.SchoolTerm(school_year=2024, term=d.Term.FIRST)),
    )


class Stream:
    """A student's stream: commands handled at T0 + `days`, events kept in order."""

    def __init__(self) -> None:
        self.state: d.StudentStatus | None = None
        self.events: list[d.RegistryEvent] = []

    def do(self, command: Any, *, days: int = 0) -> list[d.RegistryEvent]:
        self.state, events = handle(command, self.state, T0 + timedelta(days=days))
        self.events += events
        return events

    @property
    def now(self) -> d.StudentStatus:
        assert self.state is not None
        return self.state

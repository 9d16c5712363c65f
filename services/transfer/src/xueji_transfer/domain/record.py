"""Eligibility facts from the registry's record, not from the form (R28, R21, R27): what the registry last said of a
student on student.status.v1, and the application checked against it."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from xueji_contracts.messages.status import StatusState
from xueji_transfer.domain.application_form import TransferApplication, TransferKind
from xueji_transfer.domain.errors import Refused

# Changes after which the record takes no more business (contract 1.1): deleted with the Ministry's approval (R13),
# or found by the county to be a duplicate (R14).
CLOSING_CHANGES = frozenset({"deleted", "refused_as_duplicate"})
SCHOOL_YEAR_STARTS = 9  # September: the school year 2025 runs from September 2025 to the summer of 2026


class StudentRecord(BaseModel):
    """The fields of student.status.v1 the transfer service relies on. Fields the registry adds later are ignored,
    so an additive change of the public contract never stops this projection."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    student_id: str = Field(min_length=1)
    school_code: str = Field(pattern=r"^\d{10}$")
    county_code: str = Field(pattern=r"^\d{6}$")
    state: StatusState
    grade: int = Field(ge=1, le=12)
    school_year: int = Field(ge=2000, le=2100)
    change: str | None = Field(default=None, description="what happened (contract 1.1); a kind added later is kept")

    def grade_on(self, day: date) -> int:
        """An enrolled student moves up a grade each school year the registry published nothing new about them;
        any other state keeps the grade it was recorded in."""
        if self.state is not StatusState.ENROLLED:
            return self.grade
        return min(12, self.grade + max(0, school_year_of(day) - self.school_year))


def school_year_of(day: date) -> int:
    return day.year if day.month >= SCHOOL_YEAR_STARTS else day.year - 1


def check_record(
    application: TransferApplication, record: StudentRecord | None, today: date, *, grade: bool = True
) -> TransferApplication:
    """The application with the record's facts, or Refused naming the field the form contradicts and the rule.

    A student of this province the registry never published is refused, not trusted. A student from another
    province has no record here: the sending province's parties verify their status (steps 5-6, R34). `grade`: False
    when re-checked later in the case, where a new school year since the application moves the recorded grade on."""
    student_id = application.student_id
    if student_id is None:
        return application  # no status at all: R20 answers that
    if record is None:
        if application.interprovincial:
            return application
        raise Refused(
            "R28", f"the registry has no status record of {student_id}: an unknown student is refused, not trusted",
            field="student_id",
        )  # fmt: skip
    if record.change in CLOSING_CHANGES:
        raise Refused("R28", f"the registry closed the record of {student_id} ({record.change})", field="student_id")
    declared = application.status
    if declared is not None and declared is not record.state:
        raise Refused(
            "R28", f"the registry records the student as {record.state.value}, not {declared.value}", field="status"
        )
    if record.school_code != application.sending.code:
        sending = application.sending.code
        detail = f"the student's school of record is {record.school_code}, not the sending school {sending}"
        raise Refused("R21", detail, field="sending")
    recorded = record.grade_on(today)
    if grade and application.kind is TransferKind.TRANSFER and application.grade != recorded:
        detail = f"the registry has the student in grade {recorded}, not {application.grade}"
        raise Refused("R27", detail, field="grade")
    return application.model_copy(update={"status": record.state})


def check_still_transferable(
    application: TransferApplication, record: StudentRecord | None, *, offline_accepted: bool = False
) -> None:
    """Later in the case (steps 4-8): the record may have moved since the application, by another case completing
    (a guardian may apply at two schools, R20) or a suspension or graduation recorded meanwhile. The sending side
    verifies, and the student reports, only while the student is still the sending school's and may transfer (R28);
    after an offline acceptance (R23) the registry already shows the student at the receiving school."""
    if record is None or application.student_id is None:
        return  # another province's student: its own parties verify (R34)
    if application.interprovincial and record.state is StatusState.TRANSFERRED:
        return  # a returning student's old record here: the sending province verifies (R34)
    expected = {application.sending.code} | ({application.receiving.code} if offline_accepted else set())
    check_at_school(record, application.sending.code, expected)


def check_at_school(record: StudentRecord, sending: str, expected: set[str] | None = None) -> None:
    """The record is open and at the sending school (or a school in `expected`), else Refused naming the field."""
    if record.change in CLOSING_CHANGES:
        raise Refused(
            "R28", f"the registry closed the record of {record.student_id} ({record.change})", field="student_id"
        )
    if record.school_code not in (expected or {sending}):
        raise Refused(
            "R21",
            f"the student's school of record is now {record.school_code}, not the sending school "
            f"{sending}: the record moved elsewhere since the application (reject the case as status_ineligible)",
            field="sending",
        )


def check_sending_record(record: StudentRecord, sending: str) -> None:
    """Another province's case, verified by the sending side here (R34): the student is still this school's, and not
    suspended (R28); the owning province has no record of the student to ask."""
    check_at_school(record, sending)
    if record.state is StatusState.SUSPENDED:
        raise Refused("R28", "a suspended student must first resume at the original school", field="status")

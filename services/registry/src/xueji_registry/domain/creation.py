"""First enrollment (R01-R03, R14): one record per person, an L number (J without an ID), duplicates refused."""

from __future__ import annotations

from datetime import datetime

from xueji_contracts.auth import Role
from xueji_contracts.calendar.deadlines import local_date
from xueji_contracts.division import Division
from xueji_contracts.identity import mask_id_number
from xueji_contracts.messages.status import StatusState
from xueji_registry.domain import periods
from xueji_registry.domain.change_events import ChangeRequested
from xueji_registry.domain.commands import DuplicateOutcome, EnrollStudent
from xueji_registry.domain.errors import DuplicateStatus, Refused
from xueji_registry.domain.event_base import recorded
from xueji_registry.domain.events import RegistryEvent
from xueji_registry.domain.numbers import no_id_number, temporary_number
from xueji_registry.domain.record_changes import ConfirmCreation
from xueji_registry.domain.record_events import StatusRecorded
from xueji_registry.domain.rules import RegistryRules
from xueji_registry.domain.state import StudentStatus

# The change a record created as a possible duplicate waits on: the county's review (R14), the record's version 2.
CREATION_REVIEW = "chg-2"


def enroll(
    command: EnrollStudent, state: StudentStatus | None, now: datetime, rules: RegistryRules
) -> list[RegistryEvent]:
    if state is not None:
        masked = mask_id_number(state.status_number)
        raise DuplicateStatus(f"student {state.student_id} already has status {masked}", existing=state.student_id)
    check = command.duplicate_check
    if check.outcome is DuplicateOutcome.DUPLICATE:
        raise DuplicateStatus(
            f"this person already has status {check.existing_student_id}", existing=check.existing_student_id
        )
    identity = command.identity
    # A birth date that contradicts the ID number was told to the clerk as a warning when the request came in
    # (enrollment_request.contradictions): a number issued with an error is valid until it is replaced (R14). Refused
    # here, after dedupe had answered and held the child, the corrected request was refused as a duplicate of it.
    if command.admitted_on > local_date(now):
        raise Refused("R02", "the admission date is in the future", field="admitted_on")
    graduation_grade = command.graduation_grade or rules.graduation_grades[command.segment]
    if command.grade > graduation_grade:
        raise Refused("R02", f"grade {command.grade} is past the graduation grade {graduation_grade}", field="grade")
    county = Division.parse(command.school_code).county.code
    # No obtainable ID number: a J number; otherwise L until the national checks allow G (R03).
    allocate = temporary_number if identity.id_number is not None else no_id_number
    possible = check.outcome is DuplicateOutcome.POSSIBLE
    r12 = recorded(command, command.student_id, now)
    events: list[RegistryEvent] = [
        StatusRecorded(
            **r12,
            school_code=command.school_code,
            segment=command.segment,
            grade=command.grade,
            graduation_grade=graduation_grade,
            identity=identity,
            basic=command.basic,
            admitted_on=command.admitted_on,
            status_number=allocate(county, command.number_counter),
            state=StatusState.PENDING_REVIEW if possible else StatusState.ENROLLED,
            status_file_due=periods.months_after(command.admitted_on, rules.status_file_months),
            school_year=command.school_year,
        )
    ]
    if possible:
        review = r12.copy()
        review["reason"] = f"possible duplicate of {check.existing_student_id}: the county decides (R14)"
        details = ConfirmCreation(possible_duplicate_of=check.existing_student_id)
        events.append(ChangeRequested(**review, change_id=CREATION_REVIEW, details=details, verifier=Role.COUNTY))
    return events

"""May this application be made and initiated now? Status, reasons, grade and date windows (R20, R25-R29)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from xueji_contracts.calendar import local_date, semester_of
from xueji_contracts.messages.status import StatusState
from xueji_transfer.domain.application_form import (
    GuardiansMoved,
    SchoolKind,
    SchoolTerm,
    TransferApplication,
    TransferKind,
)
from xueji_transfer.domain.errors import Refused
from xueji_transfer.domain.exceptions import TimingClause, TimingException, check_named, excepted
from xueji_transfer.domain.jurisdiction import city_code
from xueji_transfer.domain.rules import Segment, TransferRules

# 003 Q10: enrolled, abroad, dropped out, expelled and left may transfer; suspended must resume first.
TRANSFERABLE = frozenset(
    {StatusState.ENROLLED, StatusState.ABROAD, StatusState.DROPPED_OUT, StatusState.EXPELLED, StatusState.LEFT}
)
GRADUATE = frozenset({StatusState.GRADUATED, StatusState.COMPLETED})
BOTH_OR_GUARDIAN = frozenset({GuardiansMoved.BOTH_PARENTS, GuardiansMoved.OTHER_GUARDIAN})


def check_application(
    application: TransferApplication, rules: TransferRules, exceptions: Sequence[TimingException] = ()
) -> None:
    """Everything that does not depend on the date: status, grade and reasons."""
    check_has_status(application)
    check_status(application)
    check_named(exceptions, application.student_id, application.receiving.code)
    if application.kind is TransferKind.TRANSFER:
        check_grade(application, rules, exceptions)
        check_reason(application, rules)


def check_has_status(application: TransferApplication) -> None:
    if application.student_id is None or application.status is None:
        raise Refused(
            "R20",
            "the student has no status to transfer; admission goes ahead regardless and the receiving "
            "school creates a new status after the duplicate check",
            field="student_id",
        )


def check_status(application: TransferApplication) -> None:
    status = application.status
    if status is StatusState.SUSPENDED:
        raise Refused("R28", "a suspended student must first resume at the original school", field="status")
    allowed = TRANSFERABLE | (GRADUATE if application.kind is TransferKind.PROGRESSION else frozenset())
    if status not in allowed:
        raise Refused("R28", f"a student whose status is {status} cannot transfer", field="status")


def check_initiation_window(
    application: TransferApplication, at: datetime, rules: TransferRules, exceptions: Sequence[TimingException] = ()
) -> None:
    """No new case in the blackout (R25); progression windows (R26); the semester's handling period (R27)."""
    windows = rules.windows
    if windows.in_blackout(at):
        blackout = f"{windows.blackout.start} 00:00 to {windows.blackout.end} 24:00"
        raise Refused("R25", f"no new transfer may be initiated during the national blackout, {blackout}")
    progression = application.kind is TransferKind.PROGRESSION and application.interprovincial
    if progression and not windows.in_progression_window(at):
        periods = ", ".join(f"{w.start} to {w.end}" for w in windows.progression)
        raise Refused("R26", f"inter-provincial progression after graduation may be initiated only {periods}")
    timing = rules.timing
    if application.kind is TransferKind.TRANSFER and timing is not None:
        term = application.term
        if term is None:
            raise Refused("R27", "the semester's dates are needed to check the transfer timing", field="term")
        day = local_date(at, "now")
        check_term(term, day)
        in_period = timing.in_handling_period(day, term.start, term.end)
        if not in_period and not excepted(exceptions, TimingClause.HANDLING_PERIOD):
            raise Refused(
                "R27",
                "transfers are generally handled before the semester ends or within 1 month after it starts; "
                "outside that only with an exception the receiving county bureau records",
            )


def check_term(term: SchoolTerm, day: date) -> None:
    """The semester R27 excludes is the one the day falls in, not whatever the form calls it: only the receiving
    county bureau may except the rule, never the school that fills in the form (RULES "Exceptions")."""
    semester = semester_of(term.start)
    if term.semester != semester.half:
        raise Refused(
            "R27",
            f"a semester starting {term.start} is {semester.describe()}, not semester {term.semester}",
            field="term.semester",
        )
    if not term.start <= term.end or semester_of(term.end) != semester:
        raise Refused(
            "R27", f"a semester starting {term.start} cannot end {term.end}: that is not one semester", field="term.end"
        )
    if semester_of(day) != semester:
        raise Refused(
            "R27",
            f"{day} falls in {semester_of(day).describe()}; the application states {semester.describe()}",
            field="term",
        )


def check_grade(
    application: TransferApplication, rules: TransferRules, exceptions: Sequence[TimingException] = ()
) -> None:
    timing, term = rules.timing, application.term
    if timing is None:
        return
    if timing.keeps_grade and application.target_grade != application.grade:
        raise Refused("R27", "the student keeps their grade: no repeating by transfer", field="target_grade")
    if term is None:
        return
    first, last = rules.segment_grades[rules.segment_of(application.grade)]
    first_grade, graduation_grade = application.grade == first, application.grade == last
    if timing.semester_excluded(first_grade=first_grade, graduation_grade=graduation_grade, semester=term.semester):
        first = term.semester == 1
        clause = TimingClause.FIRST_GRADE_FIRST_SEMESTER if first else TimingClause.GRADUATION_GRADE_LAST_SEMESTER
        if excepted(exceptions, clause):
            return
        which = "first semester of the first grade" if first else "last semester of the graduation grade"
        raise Refused(
            "R27",
            f"generally no transfer in the {which}; only with an exception the receiving county bureau records",
            field="term",
        )


def check_reason(application: TransferApplication, rules: TransferRules) -> None:
    senior = rules.segment_of(application.grade) is Segment.SENIOR
    reasons = rules.senior_reasons if senior else rules.compulsory_reasons
    if reasons and application.reason not in reasons:
        level = "senior high" if senior else "compulsory education"
        raise Refused("R29", f"{application.reason!r} is not a {level} transfer reason", field="reason")
    if senior:
        check_senior_schools(application, rules)
    elif application.reason in rules.both_parents_reasons and application.guardians_moved not in BOTH_OR_GUARDIAN:
        raise Refused(
            "R29",
            f"{application.reason!r} needs both parents (父母双方) or the other guardian to have moved",
            field="guardians_moved",
        )


def check_senior_schools(application: TransferApplication, rules: TransferRules) -> None:
    sending, receiving = application.sending, application.receiving
    if application.reason in rules.vocational_only_reasons and receiving.kind is not SchoolKind.VOCATIONAL:
        raise Refused(
            "R29", f"{application.reason!r} allows a move only to a secondary vocational school", field="receiving"
        )
    if sending.class_type is not receiving.class_type:
        raise Refused("R29", "international and regular classes are not interchangeable", field="receiving")
    if sending.kind is SchoolKind.GENERAL and receiving.kind is SchoolKind.GENERAL and sending.rank != receiving.rank:
        raise Refused("R29", "general senior-high transfers are between schools of the same level", field="receiving")
    if sending.kind is SchoolKind.VOCATIONAL and receiving.kind is SchoolKind.GENERAL:
        proof = application.vocational_to_general
        if proof is None:
            raise Refused("R29", "vocational to general senior high needs the score and both confirmations")
        if proof.applied_city != city_code(receiving.code):
            raise Refused("R29", "vocational to general senior high only within the city applied to", field="receiving")
        if proof.score < proof.admission_score:
            raise Refused("R29", "the score is below the receiving school's admission score that year")
        if not (proof.school_confirmed and proof.bureau_confirmed):
            raise Refused("R29", "both the school and the education bureau must confirm")

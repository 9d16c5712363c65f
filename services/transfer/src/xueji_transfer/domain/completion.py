"""Steps 7-8 and after: notify to report, completion, the paper file deadline (R32), graduate rollback (R33)."""

from __future__ import annotations

from datetime import datetime

from xueji_contracts.auth import Role
from xueji_contracts.calendar import add_months, local_date
from xueji_contracts.messages.transfer import Level
from xueji_transfer.domain import guards, offline, stages
from xueji_transfer.domain.calendar import DeadlineCalendar
from xueji_transfer.domain.case_events import (
    PaperFileSent,
    StudentNotifiedToReport,
    TransferCompleted,
    TransferRolledBack,
)
from xueji_transfer.domain.commands import (
    NotifyStudentToReport,
    RecordPaperFileSent,
    RecordStudentReported,
    RollBackTransfer,
)
from xueji_transfer.domain.errors import OutOfOrder, OutsideJurisdiction, Refused
from xueji_transfer.domain.events import TransferEvent
from xueji_transfer.domain.evidence import EvidenceKind
from xueji_transfer.domain.jurisdiction import acts_as
from xueji_transfer.domain.rules import TransferRules
from xueji_transfer.domain.state import CasePhase, OfflinePhase, TransferCase


def notify_to_report(case: TransferCase | None, command: NotifyStudentToReport, now: datetime) -> list[TransferEvent]:
    case = guards.running(case)
    guards.party(
        command.operator, Level.SCHOOL, case.application.receiving.code, rule="R21", role_name="the receiving school"
    )
    if case.step != 6:
        raise OutOfOrder(
            "R21", "the student is notified (step 7) only with the other three parties' consent (steps 4-6)"
        )
    return [StudentNotifiedToReport(at=now, notified_by=command.operator)]


def record_reported(
    case: TransferCase | None,
    command: RecordStudentReported,
    now: datetime,
    calendar: DeadlineCalendar,
    rules: TransferRules,
) -> list[TransferEvent]:
    case = guards.running(case)
    application = case.application
    guards.party(
        command.operator, Level.SCHOOL, application.receiving.code, rule="R21", role_name="the receiving school"
    )
    if case.step != 7:
        raise OutOfOrder("R21", "the student reports (step 8) after being notified to report (step 7)")
    if command.electronic_file.kind is not EvidenceKind.ELECTRONIC_FILE:
        raise Refused(
            "R21", "step 8 records the electronic status file pulled from the system", field="electronic_file"
        )
    if command.record is not None:  # another case may have moved the student since step 6 (R21)
        stages.check_record_now(case, command.record)
    assert application.student_id is not None  # an application without a status is refused (R20)
    completed = TransferCompleted(
        at=now,
        reported_by=command.operator,
        student_id=application.student_id,
        sending_school=application.sending.code,
        receiving_school=application.receiving.code,
        grade=application.target_grade,
        electronic_file=command.electronic_file,
        offline_accepted=case.offline.phase is OfflinePhase.ACCEPTED,
        paper_file_due_at=calendar.month_deadline(now, rules.paper_file_months),
    )
    return [completed, *offline.reconcile(case, command.system_record, now)]


def record_paper_file_sent(
    case: TransferCase | None, command: RecordPaperFileSent, now: datetime
) -> list[TransferEvent]:
    case = guards.running(case, phases=(CasePhase.COMPLETED,))
    guards.party(
        command.operator, Level.SCHOOL, case.application.sending.code, rule="R32", role_name="the sending school"
    )
    if case.paper_file_sent_at is not None:
        raise OutOfOrder("R32", "the paper file was already recorded as sent")
    return [PaperFileSent(at=now, sent_by=command.operator, method=command.method)]


def roll_back(
    case: TransferCase | None, command: RollBackTransfer, now: datetime, rules: TransferRules
) -> list[TransferEvent]:
    case = guards.running(case, phases=(CasePhase.COMPLETED,))
    application = case.application
    operator = command.operator
    counties = (application.receiving.code, application.sending.code)
    if operator.role is not Role.COUNTY or not any(acts_as(operator, Level.COUNTY, code) for code in counties):
        raise OutsideJurisdiction(
            "R33", "only the county status office of either school may roll back", field="operator"
        )
    if application.graduated_on is None:
        raise Refused("R33", "rollback is for a graduate's mistaken transfer only")
    last_day = add_months(application.graduated_on, rules.rollback_months)
    if local_date(now, "now") > last_day:
        raise Refused(
            "R33", f"rollback is possible until {last_day.isoformat()}, {rules.rollback_months} months after graduation"
        )
    assert application.student_id is not None
    return [
        TransferRolledBack(
            at=now,
            operated_by=operator,
            reason=command.reason,
            student_id=application.student_id,
            back_to_school=application.sending.code,
            from_school=application.receiving.code,
        )
    ]

"""Steps 3-6: the four verifying stages, their deadlines and decisions (R21, R22, R24, R30, R34)."""

from __future__ import annotations

from datetime import datetime

from xueji_contracts.calendar import local_date
from xueji_contracts.messages.transfer import Decision, Stage
from xueji_transfer.domain import guards
from xueji_transfer.domain.application_form import TransferApplication
from xueji_transfer.domain.calendar import DeadlineCalendar, deadline_from
from xueji_transfer.domain.case_events import (
    RejectionReason,
    TransferRejected,
)
from xueji_transfer.domain.commands import DecideStage, ExamineConditions
from xueji_transfer.domain.decision_time import decided_at
from xueji_transfer.domain.eligibility import check_initiation_window, check_status
from xueji_transfer.domain.errors import OutOfOrder, StageNotOpen
from xueji_transfer.domain.events import TransferEvent
from xueji_transfer.domain.evidence import check_no_approval_form
from xueji_transfer.domain.grounds import check_grounds
from xueji_transfer.domain.materials import check_before_initiating
from xueji_transfer.domain.offline_events import OfflineTimerArmed
from xueji_transfer.domain.record import StudentRecord, check_record, check_still_transferable
from xueji_transfer.domain.rules import TransferRules
from xueji_transfer.domain.stage_events import StageApproved, StageOpened, StageReturned
from xueji_transfer.domain.state import (
    LEVEL,
    STEP,
    CasePhase,
    OfflinePhase,
    StageStatus,
    TransferCase,
    next_stage,
    previous_stage,
    stage_jurisdiction,
)


def open_stage(
    application: TransferApplication,
    stage: Stage,
    round_number: int,
    at: datetime,
    calendar: DeadlineCalendar,
    rules: TransferRules,
) -> StageOpened:
    deadline = deadline_from(calendar, at, rules.stage_sla_working_days, rules.warning_lead_working_days)
    jurisdiction = stage_jurisdiction(application, stage)
    return StageOpened(
        at=at, stage=stage, step=STEP[stage], round=round_number, jurisdiction=jurisdiction, deadline=deadline
    )


def reopen(
    case: TransferCase, stage: Stage, at: datetime, calendar: DeadlineCalendar, rules: TransferRules
) -> StageOpened:
    previous = case.stages.get(stage)
    return open_stage(case.application, stage, previous.round + 1 if previous else 1, at, calendar, rules)


def decide_stage(
    case: TransferCase | None, command: DecideStage, now: datetime, calendar: DeadlineCalendar, rules: TransferRules
) -> list[TransferEvent]:
    case = guards.existing(case)
    stage = case.stages.get(command.stage)
    if case.phase is not CasePhase.ACTIVE or stage is None or stage.status is not StageStatus.OPEN:
        if stage is None:
            why = "it has not been opened"
        elif case.phase is not CasePhase.ACTIVE:
            why = f"the case is {case.phase.value}"
        else:
            why = f"it was {stage.status.value}"
        raise StageNotOpen("R21", f"the {command.stage.value} stage is not open: {why}", field="stage")
    guards.party(command.operator, LEVEL[command.stage], stage.jurisdiction)
    if command.sent_at is not None:  # decided elsewhere: counts when it was made, within bounds (R22)
        now = decided_at(command.sent_at, now, stage.deadline.opened_at)
    if command.decision is Decision.APPROVE:
        return _approve(case, command, now, calendar, rules)
    if command.decision is Decision.REJECT:
        return [_reject(case, command, now)]
    return _return(case, command, now, calendar, rules)


def _approve(
    case: TransferCase, command: DecideStage, now: datetime, calendar: DeadlineCalendar, rules: TransferRules
) -> list[TransferEvent]:
    if command.stage is Stage.RECEIVING_SCHOOL:
        if case.step < 2:
            raise OutOfOrder("R21", "the receiving school examines conditions (step 2) before it initiates (step 3)")
        check_before_initiating(case.application, case.materials, rules.required_materials)
        if command.record is not None:  # the record may have changed since the application (R28)
            check_status(check_record(case.application, command.record, local_date(now, "now"), grade=False))
        if case.initiated_at is None:  # a case initiated before a blackout continues through it (R25)
            check_initiation_window(case.application, now, rules, case.exceptions)
    elif command.record is not None:  # moved, suspended or graduated since the application (R21, R28)
        check_record_now(case, command.record)
    events: list[TransferEvent] = [StageApproved(at=now, stage=command.stage, decided_by=command.operator)]
    if command.stage is Stage.RECEIVING_BUREAU:
        offline = deadline_from(calendar, now, rules.offline_timeout_working_days, 0)
        events.append(OfflineTimerArmed(at=now, deadline=offline))
    following = next_stage(command.stage)
    if following is not None:
        events.append(reopen(case, following, now, calendar, rules))
    return events


def check_record_now(case: TransferCase, record: StudentRecord) -> None:
    """Steps 4-8: the registry's record as it is now still has the student at the sending school, transferable."""
    offline_accepted = case.offline.phase is OfflinePhase.ACCEPTED
    check_still_transferable(case.application, record, offline_accepted=offline_accepted)
    check_status(case.application.model_copy(update={"status": record.state}))


def _reject(case: TransferCase, command: DecideStage, now: datetime) -> TransferRejected:
    code = command.reason_code or RejectionReason.OTHER
    check_grounds(command.stage, code, interprovincial=case.application.interprovincial)
    return rejection(case, command, code, command.reason or code.value, now)


def rejection(
    case: TransferCase,
    command: DecideStage | ExamineConditions,
    code: RejectionReason,
    reason: str,
    now: datetime,
    referred_to: str | None = None,
) -> TransferRejected:
    stage = command.stage if isinstance(command, DecideStage) else Stage.RECEIVING_SCHOOL
    offline_accepted = case.offline.phase is OfflinePhase.ACCEPTED
    return TransferRejected(
        at=now,
        stage=stage,
        reason_code=code,
        reason=reason,
        decided_by=command.operator,
        referred_to=referred_to,
        offline_accepted=offline_accepted,
    )


def _return(
    case: TransferCase, command: DecideStage, now: datetime, calendar: DeadlineCalendar, rules: TransferRules
) -> list[TransferEvent]:
    check_no_approval_form(command.requested, offline=case.offline.phase is not OfflinePhase.NONE)
    back_to = previous_stage(command.stage)
    returned = StageReturned(
        at=now,
        stage=command.stage,
        decided_by=command.operator,
        reason=command.reason or "",
        requested=command.requested,
        back_to=back_to,
    )
    return [returned] if back_to is None else [returned, reopen(case, back_to, now, calendar, rules)]

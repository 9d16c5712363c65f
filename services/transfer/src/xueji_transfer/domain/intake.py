"""Steps 1-2: the guardian's application recorded by the receiving school, added materials, the examination."""

from __future__ import annotations

from datetime import datetime

from xueji_contracts.messages.transfer import Level, Stage
from xueji_transfer.domain import guards, stages
from xueji_transfer.domain.calendar import DeadlineCalendar
from xueji_transfer.domain.case_events import ConditionsExamined, MaterialsAdded, RejectionReason, TransferApplied
from xueji_transfer.domain.commands import AddMaterials, ApplyForTransfer, ExamineConditions
from xueji_transfer.domain.eligibility import check_application, check_initiation_window
from xueji_transfer.domain.errors import OutOfOrder
from xueji_transfer.domain.events import TransferEvent
from xueji_transfer.domain.jurisdiction import county_code
from xueji_transfer.domain.rules import TransferRules
from xueji_transfer.domain.state import CasePhase, TransferCase


def apply_for_transfer(
    case: TransferCase | None,
    command: ApplyForTransfer,
    now: datetime,
    calendar: DeadlineCalendar,
    rules: TransferRules,
) -> list[TransferEvent]:
    if case is not None:
        raise OutOfOrder("R21", f"transfer {case.transfer_id} already exists")
    application = command.application
    guards.party(
        command.operator, Level.SCHOOL, application.receiving.code, rule="R21", role_name="the receiving school"
    )
    check_application(application, rules, command.exceptions)
    check_initiation_window(application, now, rules, command.exceptions)
    applied = TransferApplied(
        at=now,
        transfer_id=command.transfer_id,
        application=application,
        recorded_by=command.operator,
        exceptions=command.exceptions,
        case_number=command.case_number,
    )
    return [applied, stages.open_stage(application, Stage.RECEIVING_SCHOOL, 1, now, calendar, rules)]


def add_materials(
    case: TransferCase | None, command: AddMaterials, now: datetime, calendar: DeadlineCalendar, rules: TransferRules
) -> list[TransferEvent]:
    case = guards.running(case, phases=(CasePhase.ACTIVE, CasePhase.AWAITING_MATERIALS))
    guards.party(command.operator, Level.SCHOOL, case.application.receiving.code, role_name="the receiving school")
    events: list[TransferEvent] = [MaterialsAdded(at=now, materials=command.materials, added_by=command.operator)]
    if case.phase is CasePhase.AWAITING_MATERIALS:
        events.append(stages.reopen(case, Stage.RECEIVING_SCHOOL, now, calendar, rules))
    return events


def examine_conditions(case: TransferCase | None, command: ExamineConditions, now: datetime) -> list[TransferEvent]:
    case = guards.running(case)
    receiving = case.application.receiving.code
    guards.party(command.operator, Level.SCHOOL, receiving, rule="R21", role_name="the receiving school")
    if case.step != 1:
        raise OutOfOrder("R21", "conditions are examined once, right after the application (step 2)")
    if not command.conditions_met:
        reason = command.note or "the transfer conditions are not met"
        return [stages.rejection(case, command, RejectionReason.CONDITIONS_NOT_MET, reason, now)]
    if not command.vacancy:
        reason = "no vacancy: the guardian is referred to the county bureau to arrange a place"
        return [
            stages.rejection(case, command, RejectionReason.NO_VACANCY, reason, now, referred_to=county_code(receiving))
        ]
    return [ConditionsExamined(at=now, examined_by=command.operator)]

"""apply(state, event) -> state: how each event changes a TransferCase. Pure, total, no rule checks."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from xueji_contracts.messages.transfer import Stage
from xueji_transfer.domain import case_events as ce
from xueji_transfer.domain import offline_events as oe
from xueji_transfer.domain import stage_events as se
from xueji_transfer.domain.events import TransferEvent
from xueji_transfer.domain.state import STEP, CasePhase, OfflinePhase, StageState, StageStatus, TransferCase


def replay(events: Iterable[TransferEvent]) -> TransferCase | None:
    state: TransferCase | None = None
    for event in events:
        state = apply(state, event)
    return state


def apply(state: TransferCase | None, event: TransferEvent) -> TransferCase:
    if state is None:
        if not isinstance(event, ce.TransferApplied):
            raise ValueError(f"a transfer case starts with transfer_applied, not {event.type}")
        return TransferCase(
            transfer_id=event.transfer_id,
            application=event.application,
            materials=event.application.materials,
            exceptions=event.exceptions,
            case_number=event.case_number,
            version=1,
        )
    return _changed(state, event).model_copy(update={"version": state.version + 1})


def _changed(case: TransferCase, event: TransferEvent) -> TransferCase:
    match event:
        case ce.TransferApplied():
            raise ValueError("transfer_applied on an existing case")
        case ce.MaterialsAdded(materials=materials):
            update: dict[str, Any] = {"materials": case.materials + materials}
            if case.phase is CasePhase.AWAITING_MATERIALS:
                update |= {"phase": CasePhase.ACTIVE, "step": 1}
            return case.model_copy(update=update)
        case ce.ConditionsExamined():
            return case.model_copy(update={"step": 2})
        case se.StageOpened(stage=stage, round=round_, jurisdiction=code, deadline=deadline):
            opened = StageState(
                stage=stage, jurisdiction=code, status=StageStatus.OPEN, round=round_, deadline=deadline
            )
            return case.model_copy(
                update={"stages": {**case.stages, stage: opened}, "step": min(case.step, STEP[stage] - 1)}
            )
        case se.StageApproved(stage=stage, at=at):
            update = {"stages": _status(case, stage, StageStatus.APPROVED), "step": STEP[stage]}
            if case.initiated_at is None and STEP[stage] == 3:
                update["initiated_at"] = at
            return case.model_copy(update=update)
        case se.StageReturned(stage=stage, back_to=back_to):
            update = {"stages": _status(case, stage, StageStatus.RETURNED)}
            if back_to is None:
                update |= {"phase": CasePhase.AWAITING_MATERIALS, "step": 0}
            return case.model_copy(update=update)
        case se.StageWarned(stage=stage):
            return _stage(case, stage, warned=True)
        case se.StageEscalated(stage=stage, escalation_count=count, escalated_to=code, next_deadline=next_deadline):
            return _stage(case, stage, escalation_count=count, escalated_to=code, escalation_deadline=next_deadline)
        case se.StageDeadlineChanged(stage=stage, which=which, deadline=deadline):
            return _stage(case, stage, **{"deadline" if which == "sla" else "escalation_deadline": deadline})
        case ce.TransferRejected(stage=stage, reason_code=code):
            stages = _status(case, stage, StageStatus.REJECTED)
            return case.model_copy(update={"phase": CasePhase.REJECTED, "rejection": code, "stages": stages})
        case oe.OfflineTimerArmed(deadline=deadline):
            return _offline(case, timer=deadline)
        case oe.OfflinePathOpened(cause=cause):
            return _offline(case, phase=OfflinePhase.OPEN, cause=cause)
        case oe.OfflineConsentSigned(form=form, cause=cause, cause_text=text):
            stated = None if cause is None else f"{cause.value}: {text}" if text else cause.value
            return _offline(case, phase=OfflinePhase.CONSENTED, consent=form, consent_cause=stated)
        case oe.OfflineAccepted(at=at, record=record):
            return _offline(case, phase=OfflinePhase.ACCEPTED, accepted_at=at, record=record)
        case oe.OfflineReconciled():
            return _offline(case, phase=OfflinePhase.RECONCILED)
        case ce.StudentNotifiedToReport():
            return case.model_copy(update={"step": 7})
        case ce.TransferCompleted(at=at, paper_file_due_at=due):
            update = {"step": 8, "phase": CasePhase.COMPLETED, "completed_at": at, "paper_file_due_at": due}
            return case.model_copy(update=update)
        case ce.PaperFileSent(at=at):
            return case.model_copy(update={"paper_file_sent_at": at})
        case ce.PaperFileDeadlineChanged(due_at=due):
            return case.model_copy(update={"paper_file_due_at": due})
        case ce.PaperFileOverdue():
            return case.model_copy(update={"paper_file_overdue": True})
        case ce.TransferRolledBack():
            return case.model_copy(update={"phase": CasePhase.ROLLED_BACK})
    raise ValueError(f"unknown event {event!r}")  # pragma: no cover - the union is exhaustive


def _stage(case: TransferCase, stage: Stage, **changes: Any) -> TransferCase:
    return case.model_copy(update={"stages": {**case.stages, stage: case.stages[stage].model_copy(update=changes)}})


def _status(case: TransferCase, stage: Stage, status: StageStatus) -> dict[Stage, StageState]:
    return {**case.stages, stage: case.stages[stage].model_copy(update={"status": status})}


def _offline(case: TransferCase, **changes: Any) -> TransferCase:
    return case.model_copy(update={"offline": case.offline.model_copy(update=changes)})

"""Which contract messages a case's events publish, on which topic, and which cross to another province (R34)."""

# A party in another province hears of its stages on interprovince.transfer.v1 only, and of the case's outcome there
# as well as on the local topic.

from __future__ import annotations

import uuid
from collections.abc import Iterator

from pydantic import BaseModel

from xueji_contracts.auth import province_of
from xueji_contracts.envelope import derive_id, envelop
from xueji_contracts.messages import transfer as c
from xueji_contracts.messages.status_file import PaperRecord
from xueji_contracts.topics import INTERPROVINCE_TRANSFER, TRANSFER_CASE, TRANSFER_SLA, TRANSFER_STAGE, TopicSpec
from xueji_kit.outbox_entries import Outgoing
from xueji_transfer.domain import TransferCase, TransferEvent
from xueji_transfer.domain import case_events as ce
from xueji_transfer.domain import offline_events as oe
from xueji_transfer.domain import stage_events as se

Published = tuple[TopicSpec, BaseModel]


def published(case: TransferCase, event: TransferEvent) -> Iterator[Published]:
    """The contract messages one domain event becomes; internal bookkeeping events publish nothing."""
    tid, app, no = case.transfer_id, case.application, case.case_number
    match event:
        case se.StageOpened():
            yield TRANSFER_STAGE, c.StageOpened(
                transfer_id=tid, case_number=no, stage=event.stage, step=event.step,
                jurisdiction=event.jurisdiction, deadline=event.deadline, student_id=app.student_id or "",
                sending_school=app.sending.code,
                receiving_school=app.receiving.code, interprovincial=app.interprovincial,
            )  # fmt: skip
        case se.StageApproved() | se.StageReturned() | ce.TransferRejected():
            yield TRANSFER_STAGE, _closed(case, event)
        case se.StageWarned():
            yield TRANSFER_SLA, c.StageWarning(
                transfer_id=tid, case_number=no, stage=event.stage, jurisdiction=event.jurisdiction,
                due_at=event.due_at, working_days_left=event.working_days_left,
            )  # fmt: skip
        case se.StageEscalated():
            yield TRANSFER_SLA, c.StageBreached(
                transfer_id=tid, case_number=no, stage=event.stage, jurisdiction=event.jurisdiction,
                due_at=event.missed_due_at,
                escalated_to_level=event.escalated_to_level, escalated_to=event.escalated_to,
                escalation_count=event.escalation_count,
            )  # fmt: skip
        case se.StageDeadlineChanged(which="sla"):
            # An escalation deadline is not the stage's due date the dashboard shows; it moves silently.
            yield TRANSFER_STAGE, c.StageDeadlineChanged(
                transfer_id=tid, case_number=no, stage=event.stage, jurisdiction=event.jurisdiction,
                previous=event.previous, deadline=event.deadline,
            )  # fmt: skip
    outcome = _outcome(event)
    if outcome is not None:
        kind = c.CaseKind(app.kind.value)  # a progression tells the registry the grade it enters (R07)
        yield TRANSFER_CASE, c.TransferCaseChanged(
            transfer_id=tid, case_number=no, outcome=outcome[0], student_id=app.student_id or "",
            sending_school=app.sending.code,
            receiving_school=app.receiving.code, reason=outcome[1], at=event.at, paper_record=_paper(case, event),
            kind=kind, target_grade=app.target_grade if kind is c.CaseKind.PROGRESSION else None,
            offline_accepted=isinstance(event, ce.TransferRejected) and event.offline_accepted,
        )  # fmt: skip


def _paper(case: TransferCase, event: TransferEvent) -> PaperRecord | None:
    """A student from another province accepted offline: the receiving registry starts the record from the form."""
    if not isinstance(event, oe.OfflineAccepted) or not case.application.interprovincial:
        return None
    return PaperRecord.model_validate(event.record)  # validated when the school accepted (R23)


def _closed(case: TransferCase, event: se.StageApproved | se.StageReturned | ce.TransferRejected) -> c.StageClosed:
    decision = {
        "stage_approved": c.Decision.APPROVE,
        "stage_returned": c.Decision.RETURN_FOR_MATERIALS,
        "transfer_rejected": c.Decision.REJECT,
    }[event.type]
    by = event.decided_by.sub
    reason = None if isinstance(event, se.StageApproved) else event.reason
    jurisdiction = case.jurisdiction_of(event.stage)
    return c.StageClosed(
        transfer_id=case.transfer_id, case_number=case.case_number, stage=event.stage, jurisdiction=jurisdiction,
        decision=decision,
        reason=reason, decided_by=by, decided_at=event.at,
    )  # fmt: skip


def _outcome(event: TransferEvent) -> tuple[c.CaseOutcome, str | None] | None:
    match event:
        case ce.TransferApplied():
            return c.CaseOutcome.OPENED, None
        case ce.TransferRejected(reason=reason):
            return c.CaseOutcome.REJECTED, reason
        case oe.OfflinePathOpened(cause=cause, note=note):
            return c.CaseOutcome.OFFLINE_OPENED, f"{cause.value}: {note}" if note else cause.value
        case oe.OfflineAccepted():
            return c.CaseOutcome.OFFLINE_ACCEPTED, None
        case oe.OfflineReconciled(differences=differences):
            fields = ", ".join(d.field for d in differences)
            return c.CaseOutcome.RECONCILED, f"system record prevails; differed: {fields}" if fields else None
        case ce.TransferCompleted():
            return c.CaseOutcome.COMPLETED, None
        case ce.PaperFileOverdue(due_at=due, flagged_to=county):
            return c.CaseOutcome.PAPER_FILE_OVERDUE, f"paper file was due {due.isoformat()}; flagged to {county}"
        case ce.TransferRolledBack(reason=reason):
            return c.CaseOutcome.ROLLED_BACK, reason
    return None


def addressed_elsewhere(model: BaseModel, province: str) -> bool:
    """A stage message whose party (or the level a breach went to) lies in another province."""
    codes = [getattr(model, "jurisdiction", None), getattr(model, "escalated_to", None)]
    return any(code is not None and province_of(code) != province for code in codes)


def outgoing(
    case: TransferCase, events: list[TransferEvent], commit_id: str, province: str, correlation_id: uuid.UUID | None
) -> list[Outgoing]:
    """Envelopes for the relay; ids derive from the commit so a stored decision always names the same messages."""
    result: list[Outgoing] = []
    sending_elsewhere = province_of(case.application.sending.code) != province
    messages = [(event.at, topic, payload) for event in events for topic, payload in published(case, event)]
    for index, (at, topic, payload) in enumerate(messages):
        message = envelop(
            payload, producer="transfer", province=province, occurred_at=at, correlation_id=correlation_id,
            message_id=derive_id(commit_id, index),
        )  # fmt: skip
        remote = topic is not TRANSFER_CASE and addressed_elsewhere(payload, province)
        if not remote:
            result.append(Outgoing(topic.name, case.transfer_id, message))
        if remote or (topic is TRANSFER_CASE and sending_elsewhere):
            result.append(Outgoing(INTERPROVINCE_TRANSFER.name, case.transfer_id, message))
    return result

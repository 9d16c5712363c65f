"""What a case asks of whom right now: one to-do per jurisdiction that must act or chase (R21-R23, R32, R50)."""

# Pure: the service files the case under each code asked of, and an inbox read computes these from the case.

from __future__ import annotations

from typing import Any

from xueji_contracts.auth import province_of
from xueji_transfer.domain import CasePhase, OfflinePhase, TransferCase
from xueji_transfer.domain.jurisdiction import county_code
from xueji_transfer.domain.offline import information_arrived

Entry = dict[str, Any]


def summary(case: TransferCase) -> dict[str, Any]:
    """The case as a list shows it: who, where, how far, and the open stage's deadline."""
    app, stage = case.application, case.open_stage
    return {
        "transfer_id": case.transfer_id,
        "student_id": app.student_id,
        "sending_school": app.sending.code,
        "receiving_school": app.receiving.code,
        "interprovincial": app.interprovincial,
        "phase": case.phase.value,
        "step": case.step,
        "open_stage": None if stage is None else stage_view(stage.model_dump(mode="json")),
        "offline": case.offline.phase.value,
        "completed_at": case.completed_at,
        "paper_file_due_at": case.paper_file_due_at,
        "paper_file_sent_at": case.paper_file_sent_at,
        "paper_file_overdue": case.paper_file_overdue,
        "version": case.version,
    }


def stage_view(stage: dict[str, Any]) -> dict[str, Any]:
    deadline = stage["deadline"]
    return {
        "stage": stage["stage"],
        "jurisdiction": stage["jurisdiction"],
        "round": stage["round"],
        "opened_at": deadline["opened_at"],
        "due_at": deadline["due_at"],
        "warn_at": deadline["warn_at"],
        "provisional": deadline["provisional"],
        "calendar_version": deadline["calendar_version"],
        "warned": stage["warned"],
        "escalation_count": stage["escalation_count"],
        "escalated_to": stage["escalated_to"],
    }


def todos(case: TransferCase, province: str) -> list[Entry]:
    """Every (jurisdiction, action) the case waits on, limited to jurisdictions of `province`."""
    app = case.application
    receiving, sending = app.receiving.code, app.sending.code
    found: list[tuple[str, str, str | None]] = []
    stage = case.open_stage
    if stage is not None:
        found.append((stage.jurisdiction, "decide_stage", stage.stage.value))
        if stage.escalated_to:
            found.append((stage.escalated_to, "chase_stage", stage.stage.value))
    if case.phase is CasePhase.AWAITING_MATERIALS:
        found.append((receiving, "add_materials", None))
    if case.phase is CasePhase.ACTIVE and case.step == 6:
        found.append((receiving, "notify_student_to_report", None))
    if case.phase is CasePhase.ACTIVE and case.step == 7:
        found.append((receiving, "record_student_reported", None))
    offline_open = case.phase is CasePhase.ACTIVE and not information_arrived(case)  # R23: only while it has not
    if offline_open and case.offline.phase is OfflinePhase.OPEN:
        found.append((county_code(receiving), "sign_offline_consent", None))
    if offline_open and case.offline.phase is OfflinePhase.CONSENTED:
        found.append((receiving, "accept_offline", None))
    if case.phase is CasePhase.COMPLETED and case.paper_file_sent_at is None:
        found.append((sending, "send_paper_file", None))
        if case.paper_file_overdue:
            found.append((county_code(sending), "chase_paper_file", None))
    view = summary(case)
    return [
        {
            "_id": f"{case.transfer_id}:{code}:{action}",
            "kind": "todo",
            "code": code,
            "action": action,
            "stage": stage_name,
        }
        | {k: view[k] for k in ("transfer_id", "student_id", "sending_school", "receiving_school", "open_stage")}
        for code, action, stage_name in found
        if province_of(code) == province
    ]

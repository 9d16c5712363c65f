"""The transfer case's pure domain: decide(state, command, now, calendar, rules) -> events, apply(state, event).

No I/O and no clock: the time, the working-day calendar and the province's rules are arguments.
"""

from xueji_transfer.domain.application_form import (
    ClassType,
    GuardiansMoved,
    SchoolKind,
    SchoolSide,
    SchoolTerm,
    TransferApplication,
    TransferKind,
    VocationalToGeneral,
)
from xueji_transfer.domain.apply_events import apply, replay
from xueji_transfer.domain.calendar import ComputedDeadline, DeadlineCalendar
from xueji_transfer.domain.case_events import PaperFileMethod, RejectionReason
from xueji_transfer.domain.commands import (
    AcceptOffline,
    AddMaterials,
    ApplyForTransfer,
    Command,
    DecideStage,
    DeclareSystemFailure,
    ExamineConditions,
    FireTimer,
    NotifyStudentToReport,
    RecomputeDeadlines,
    RecordOfflineConsent,
    RecordPaperFileSent,
    RecordStudentReported,
    RollBackTransfer,
)
from xueji_transfer.domain.decide import decide, handle
from xueji_transfer.domain.errors import OutOfOrder, OutsideJurisdiction, Refused, StageNotOpen, TransferError
from xueji_transfer.domain.events import TransferEvent, from_documents, is_case_event, to_documents
from xueji_transfer.domain.evidence import Evidence, EvidenceKind
from xueji_transfer.domain.exceptions import RecordTimingException, TimingClause, TimingException
from xueji_transfer.domain.offline_events import ConsentCause, OfflineCause
from xueji_transfer.domain.routing import Route, route_dispute
from xueji_transfer.domain.rules import Segment, TransferRules
from xueji_transfer.domain.sla import ArmedTimer, TimerKind, armed_timers
from xueji_transfer.domain.state import CasePhase, OfflinePhase, StageState, StageStatus, TransferCase

__all__ = [
    "AcceptOffline",
    "AddMaterials",
    "ApplyForTransfer",
    "ArmedTimer",
    "CasePhase",
    "ClassType",
    "Command",
    "ComputedDeadline",
    "ConsentCause",
    "DeadlineCalendar",
    "DecideStage",
    "DeclareSystemFailure",
    "Evidence",
    "EvidenceKind",
    "ExamineConditions",
    "FireTimer",
    "GuardiansMoved",
    "NotifyStudentToReport",
    "OfflineCause",
    "OfflinePhase",
    "OutOfOrder",
    "OutsideJurisdiction",
    "PaperFileMethod",
    "RecomputeDeadlines",
    "RecordOfflineConsent",
    "RecordPaperFileSent",
    "RecordStudentReported",
    "RecordTimingException",
    "Refused",
    "RejectionReason",
    "RollBackTransfer",
    "Route",
    "SchoolKind",
    "SchoolSide",
    "SchoolTerm",
    "Segment",
    "StageNotOpen",
    "StageState",
    "StageStatus",
    "TimerKind",
    "TimingClause",
    "TimingException",
    "TransferApplication",
    "TransferCase",
    "TransferError",
    "TransferEvent",
    "TransferKind",
    "TransferRules",
    "VocationalToGeneral",
    "apply",
    "armed_timers",
    "decide",
    "from_documents",
    "handle",
    "is_case_event",
    "replay",
    "route_dispute",
    "to_documents",
]

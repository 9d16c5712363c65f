"""The status record's pure domain: decide(command, state, now) -> events, apply(state, event) -> state.

No I/O, no clock, no randomness: time, allocation counters and check outcomes are arguments.
"""

from xueji_registry.domain.apply import apply, replay
from xueji_registry.domain.authorization import Authorization, authorize
from xueji_registry.domain.change_events import ChangeApproved, ChangeRejected, ChangeRequested, NationalChecksRecorded
from xueji_registry.domain.change_kinds import ChangeKind, DropoutCause, SuspensionCause
from xueji_registry.domain.commands import (
    AssignSupplementaryNumber,
    Command,
    CompleteStatusFile,
    DecideDuplicateReview,
    DuplicateCheck,
    DuplicateOutcome,
    EndAbsence,
    EnrollStudent,
    IssueFormalNumber,
    RecordAbsence,
    RecordException,
    RecordFileHandover,
    RecordNationalChecks,
    RecordRollback,
    RecordTransferIn,
    RecordTransferOut,
    ReferDuplicateCheck,
    RegisterFreshman,
    RequestChange,
    ReviewChange,
)
from xueji_registry.domain.decide import decide, handle
from xueji_registry.domain.errors import (
    DuplicateStatus,
    IllegalTransition,
    OutsideJurisdiction,
    RecordClosed,
    Refused,
    RegistryError,
    UnknownRecord,
)
from xueji_registry.domain.event_base import Actor, CheckOutcome
from xueji_registry.domain.events import RegistryEvent, from_documents, to_documents
from xueji_registry.domain.evidence import EvidenceKind, EvidenceRef
from xueji_registry.domain.number_commands import g_number_discrepancy
from xueji_registry.domain.numbers import CAPACITY, NumberKind, formal_number, kind_of, no_id_number, temporary_number
from xueji_registry.domain.periods import SchoolTerm, Segment, Term
from xueji_registry.domain.person import BasicInfo, BasicInfoPatch, Gender, StudentIdentity
from xueji_registry.domain.public_view import PublicStatusView, public_view
from xueji_registry.domain.record_changes import (
    ChangeBasicInfo,
    ChangeDetails,
    ChangeKeyInfo,
    ChangeToFormalNumber,
    DeleteRecord,
    ReissueCertificate,
)
from xueji_registry.domain.rules import DEFAULT_RULES, RegistryRules
from xueji_registry.domain.state import StudentStatus
from xueji_registry.domain.status_changes import (
    AbsenceDropout,
    Complete,
    Death,
    DropOut,
    ExtendSuspension,
    GoAbroad,
    Graduate,
    Leave,
    Resume,
    ResumeAfterDropout,
    ReturnFromAbroad,
    Suspend,
)
from xueji_registry.domain.status_events import Arrival
from xueji_registry.domain.supplementary import (
    SchoolNumbering,
    certificate_number,
    supplementary_number,
)
from xueji_registry.domain.transitions import TRANSITIONS, Transition

__all__ = [
    "CAPACITY",
    "DEFAULT_RULES",
    "TRANSITIONS",
    "AbsenceDropout",
    "Actor",
    "Arrival",
    "AssignSupplementaryNumber",
    "Authorization",
    "BasicInfo",
    "BasicInfoPatch",
    "ChangeApproved",
    "ChangeBasicInfo",
    "ChangeDetails",
    "ChangeKeyInfo",
    "ChangeKind",
    "ChangeRejected",
    "ChangeRequested",
    "ChangeToFormalNumber",
    "CheckOutcome",
    "Command",
    "Complete",
    "CompleteStatusFile",
    "Death",
    "DecideDuplicateReview",
    "DeleteRecord",
    "DropOut",
    "DropoutCause",
    "DuplicateCheck",
    "DuplicateOutcome",
    "DuplicateStatus",
    "EndAbsence",
    "EnrollStudent",
    "EvidenceKind",
    "EvidenceRef",
    "ExtendSuspension",
    "Gender",
    "GoAbroad",
    "Graduate",
    "IllegalTransition",
    "IssueFormalNumber",
    "Leave",
    "NationalChecksRecorded",
    "NumberKind",
    "OutsideJurisdiction",
    "PublicStatusView",
    "RecordAbsence",
    "RecordClosed",
    "RecordException",
    "RecordFileHandover",
    "RecordNationalChecks",
    "RecordRollback",
    "RecordTransferIn",
    "RecordTransferOut",
    "ReferDuplicateCheck",
    "Refused",
    "RegisterFreshman",
    "RegistryError",
    "RegistryEvent",
    "RegistryRules",
    "ReissueCertificate",
    "RequestChange",
    "Resume",
    "ResumeAfterDropout",
    "ReturnFromAbroad",
    "ReviewChange",
    "SchoolNumbering",
    "SchoolTerm",
    "Segment",
    "StudentIdentity",
    "StudentStatus",
    "Suspend",
    "SuspensionCause",
    "Term",
    "Transition",
    "UnknownRecord",
    "apply",
    "authorize",
    "certificate_number",
    "decide",
    "formal_number",
    "from_documents",
    "g_number_discrepancy",
    "handle",
    "kind_of",
    "no_id_number",
    "public_view",
    "replay",
    "supplementary_number",
    "temporary_number",
    "to_documents",
]

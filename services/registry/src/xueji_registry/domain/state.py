"""The StudentStatus aggregate's state: built only by folding events (`apply`), read by `decide` and views."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from xueji_contracts.division import Division
from xueji_contracts.messages.status import StatusState
from xueji_registry.domain.change_kinds import ChangeKind, DropoutCause, SuspensionCause
from xueji_registry.domain.event_base import Actor, CheckOutcome
from xueji_registry.domain.evidence import EvidenceRef
from xueji_registry.domain.periods import SchoolTerm, Segment, school_year_of
from xueji_registry.domain.person import BasicInfo, PersonFacts, StudentIdentity, person_facts
from xueji_registry.domain.record_changes import ChangeDetails
from xueji_registry.domain.record_events import ClosureCause, NumberChangeCause
from xueji_registry.domain.rule_exceptions import GrantedException


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SuspensionRecord(_Frozen):
    cause: SuspensionCause
    since: date
    expires_on: date
    extensions: int = 0  # R40: at most one (absolute)
    grade: int
    term: SchoolTerm

    @property
    def extended(self) -> bool:
        return self.extensions > 0


class DropoutRecord(_Frozen):
    cause: DropoutCause
    on: date
    status_retained: bool
    # R45: a migrant child's file goes to the household-register county bureau at semester end
    migrant_household_county: str | None = None
    file_handed_over_on: date | None = None


class CertificateKind(StrEnum):
    GRADUATION = "graduation"
    COMPLETION = "completion"
    LEAVING = "leaving"


class CertificateRecord(_Frozen):
    kind: CertificateKind
    number: str | None = None
    issued_on: date
    school_code: str | None = None  # R08: the school that issued it, whose county bureau prints a reissue
    reissued_on: date | None = None  # R08: the latest reissue
    reissues: int = 0  # R08: once by default, again only by a recorded exception
    study_from: date | None = None
    study_to: date | None = None


class ChangePhase(StrEnum):
    AWAITING_VERIFICATION = "awaiting_verification"
    AWAITING_NATIONAL_CHECKS = "awaiting_national_checks"


class DuplicateReview(_Frozen):
    """R14: the county's review case of a suspected duplicate the change's duplicate check found."""

    case_id: str
    tier: str  # the tier whose answer opened it: "province" or "national"
    identity_comparison: CheckOutcome = CheckOutcome.NOT_RUN  # what that answer said of the population register
    cleared: bool = False  # decided "different person" and asked again at the national tier


class PendingChange(_Frozen):
    change_id: str
    details: ChangeDetails
    requested_at: datetime
    requested_by: Actor
    reason: str
    evidence: tuple[EvidenceRef, ...]
    phase: ChangePhase = ChangePhase.AWAITING_VERIFICATION
    review: DuplicateReview | None = None  # R14: a suspected duplicate the county reviews

    @property
    def kind(self) -> ChangeKind:
        return self.details.kind


class ProgressionOrigin(_Frozen):
    """Where a graduate stood before a progression case moved the record on: what an R33 rollback restores."""

    transfer_id: str
    state: StatusState
    school_code: str
    segment: Segment
    grade: int
    graduation_grade: int
    admitted_on: date
    class_year: int | None = None


class Closure(_Frozen):
    cause: ClosureCause
    at: datetime


class StudentStatus(_Frozen):
    """One student's status record as of `version` events; history lives in the events, not here."""

    student_id: str
    version: int = Field(ge=1)
    state: StatusState
    school_code: str
    segment: Segment
    grade: int
    graduation_grade: int
    identity: StudentIdentity
    basic: BasicInfo
    admitted_on: date
    # R07, R54: the school year of the freshman class the student entered the segment with, as the request or the
    # freshman registration named it; None where none was named or kept (see `school_year`).
    class_year: int | None = None
    status_file_due: date | None = None  # R02: None once the file is established
    status_file_completed_on: date | None = None
    absent_since: date | None = None  # R45: unexcused absence being counted toward dropout
    status_number: str
    previous_numbers: tuple[str, ...] = ()
    number_cause: NumberChangeCause | None = None  # how the current number came about, if it was changed
    previous_names: tuple[str, ...] = ()
    previous_id_numbers: tuple[str, ...] = ()
    supplementary_numbers: dict[Segment, str] = Field(default_factory=dict)
    suspension: SuspensionRecord | None = None
    dropout: DropoutRecord | None = None
    certificates: tuple[CertificateRecord, ...] = ()
    pending: tuple[PendingChange, ...] = ()
    transfers: tuple[str, ...] = ()  # transfer ids already applied: a redelivered outcome changes nothing
    exceptions: tuple[GrantedException, ...] = ()  # R08, R40: recorded by the authority, each used once
    progressed_from: ProgressionOrigin | None = None  # R33: the latest progression case, until rolled back
    paper_arrival: str | None = None  # R23: started from an offline acceptance's paper form; awaits the file
    closure: Closure | None = None

    @property
    def school_year(self) -> int:
        """The school year of the class the student is in for this segment (R07's yy, R54's roster, the public feed):
        the freshman class named, else (a record created before it was kept, a graduate's progression case, an arrival
        from another province) the school year of the admission date. A July admission to the coming year's class is
        that year's."""
        return self.class_year if self.class_year is not None else school_year_of(self.admitted_on)

    @property
    def county_code(self) -> str:
        return Division.parse(self.school_code).county.code

    def person_facts(self) -> PersonFacts:
        return person_facts(self.student_id, self.school_code, self.identity, self.basic)

    def pending_change(self, change_id: str) -> PendingChange | None:
        return next((p for p in self.pending if p.change_id == change_id), None)

    def certificate(self, number: str) -> CertificateRecord | None:
        return next((c for c in self.certificates if c.number == number), None)

"""Events that move the status (R40-R46, R28 transfers, R14 creation review): one per transition."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from xueji_registry.domain.change_kinds import DropoutCause, SuspensionCause
from xueji_registry.domain.event_base import RegistryEventBase, TransitionEventBase
from xueji_registry.domain.periods import SchoolTerm, Segment
from xueji_registry.domain.person import BasicInfo, StudentIdentity

SCHOOL = r"^\d{10}$"


class CreationConfirmed(TransitionEventBase):
    type: Literal["creation_confirmed"] = "creation_confirmed"


class Suspended(TransitionEventBase):
    type: Literal["suspended"] = "suspended"
    cause: SuspensionCause
    since: date
    expires_on: date
    grade: int
    term: SchoolTerm
    exception_ids: tuple[str, ...] = ()  # R40: the county bureau's exceptions this suspension relies on


class SuspensionExtended(TransitionEventBase):
    type: Literal["suspension_extended"] = "suspension_extended"
    expires_on: date


class Resumed(TransitionEventBase):
    type: Literal["resumed"] = "resumed"
    grade: int


class WentAbroad(TransitionEventBase):
    type: Literal["went_abroad"] = "went_abroad"


class ReturnedFromAbroad(TransitionEventBase):
    """The original record continues (R42): same student id, numbers and history."""

    type: Literal["returned_from_abroad"] = "returned_from_abroad"


class DroppedOut(TransitionEventBase):
    type: Literal["dropped_out"] = "dropped_out"
    cause: DropoutCause
    on: date
    status_retained: bool  # R45: the county keeps a compulsory-education dropout's status
    written_report_required: bool  # R45: the school reports to the township and the county bureau
    migrant_household_county: str | None = None


class ResumedAfterDropout(TransitionEventBase):
    type: Literal["resumed_after_dropout"] = "resumed_after_dropout"


class Deceased(TransitionEventBase):
    type: Literal["deceased"] = "deceased"
    date_of_death: date
    reported_late: bool  # R44: cancelled more than 1 month after the death


class Graduated(TransitionEventBase):
    type: Literal["graduated"] = "graduated"
    graduation_year: int
    certificate_number: str | None  # R08: None where the province's policy sets no number layout


class Completed(TransitionEventBase):
    type: Literal["completed"] = "completed"


class Left(TransitionEventBase):
    """A leaving certificate stating the actual period of study (002 III.17)."""

    type: Literal["left"] = "left"
    study_from: date
    study_to: date


class FreshmanRegistered(TransitionEventBase):
    """R07: the student registered as a freshman of a later segment (a primary graduate entering junior high, a
    junior graduate entering senior high) at `school_code`; the record, its numbers and history continue, and the
    school gives the new segment's supplementary number (the earlier one stays)."""

    type: Literal["freshman_registered"] = "freshman_registered"
    school_code: str = Field(pattern=SCHOOL)
    previous_school: str = Field(pattern=SCHOOL)
    segment: Segment
    previous_segment: Segment
    grade: int = Field(ge=1, le=12)
    graduation_grade: int = Field(ge=1, le=12)
    admitted_on: date
    transfer_id: str | None = None  # a progression case completed in the transfer service (R33 may roll it back)
    school_year: int | None = None  # the freshman class the school named (R07, R54); None: the admission date's


class TransferredOut(TransitionEventBase):
    """The student went to a school in another province; the record stays here as history."""

    type: Literal["transferred_out"] = "transferred_out"
    transfer_id: str
    receiving_school: str = Field(pattern=SCHOOL)
    progression: bool = False  # a graduate's progression (R33 may roll it back)


class ProgressionRolledBack(TransitionEventBase):
    """R33: a graduate's mistaken progression undone by the county status office: the record is again the graduating
    school's, in the segment, grade and state it left (its certificate and any number given meanwhile stay)."""

    type: Literal["progression_rolled_back"] = "progression_rolled_back"
    transfer_id: str
    from_school: str = Field(pattern=SCHOOL)
    school_code: str = Field(pattern=SCHOOL)
    segment: Segment
    grade: int = Field(ge=1, le=12)
    graduation_grade: int = Field(ge=1, le=12)
    admitted_on: date
    school_year: int | None = None  # the class year the record had there (R07, R54); None: the admission date's


ArrivalSource = Literal["status_file", "paper_form"]


class Arrival(BaseModel):
    """A student arriving from another province for the first time: what the sending side's record says."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    student_id: str = Field(min_length=1)
    identity: StudentIdentity
    basic: BasicInfo = BasicInfo()
    status_number: str  # the national number travels with the student; the supplementary number does not
    segment: Segment
    grade: int = Field(ge=1, le=12)
    graduation_grade: int = Field(ge=1, le=12)
    admitted_on: date
    source: ArrivalSource = Field(
        default="status_file", description="the electronic file, or the paper form of an offline acceptance (R23)"
    )


class ArrivalDifference(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    field: str
    paper: str | None
    system: str | None


class ArrivalReconciled(RegistryEventBase):
    """R23, R34: a record started from the paper form of an offline acceptance meets the electronic file: the
    differences are listed and the file prevails (the paper's values stay in this event)."""

    type: Literal["arrival_reconciled"] = "arrival_reconciled"
    transfer_id: str
    differences: tuple[ArrivalDifference, ...]
    arrival: Arrival


class TransferredIn(TransitionEventBase):
    type: Literal["transferred_in"] = "transferred_in"
    transfer_id: str
    from_school: str | None = Field(default=None, pattern=SCHOOL)
    to_school: str = Field(pattern=SCHOOL)
    arrival: Arrival | None = None  # set when the record starts here

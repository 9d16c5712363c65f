"""Registry compliance deadlines notify turns into tasks for the responsible jurisdiction.

Status file within 1 month of admission (R02), paper file within 1 month after a transfer (R32),
cancellation within 1 month of a death (R44), annual rosters within 1 month of the school year (R54),
absence reporting and a migrant dropout's file hand-over to the household-register county at semester end
(R45), the county bureau's review of a submitted graduation roster (R46). The registry
arms and fires them with the shared timer mechanism and publishes one message per change of a deadline's state.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

CODE = r"^\d{6}(\d{4})?$"


class ComplianceKind(StrEnum):
    STATUS_FILE = "status_file"
    PAPER_FILE = "paper_file"
    DEATH_CANCELLATION = "death_cancellation"
    ANNUAL_ROSTER = "annual_roster"
    ABSENCE_REPORT = "absence_report"
    GRADUATION_ROSTER = "graduation_roster"  # R46: the county bureau reviews a submitted roster
    FILE_HANDOVER = "file_handover"  # R45: the county bureau hands a migrant dropout's file over at semester end


class ComplianceState(StrEnum):
    OPENED = "opened"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    MET = "met"


class ComplianceDeadlineChanged(BaseModel):
    """A compliance deadline was armed, is near, passed (flagged to the bureau above) or was met.

    `met` is final for its `deadline_id` until the deadline is `opened` again: a `due_soon` or `overdue` after it
    (its timer fired as the deadline was met; the two are recorded on different streams) changes nothing."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    deadline_id: str = Field(min_length=1, description="stable per deadline, e.g. the timer id")
    kind: ComplianceKind
    state: ComplianceState
    rule: str = Field(pattern=r"^R\d{2}$", description="the RULES.md id the deadline implements")
    jurisdiction: str = Field(pattern=CODE, description="school or division code that must act")
    subject_id: str = Field(min_length=1, description="opaque student id, roster id or school code; no ID number")
    due_at: AwareDatetime
    flagged_to: str | None = Field(default=None, pattern=CODE, description="bureau told of an overdue deadline")
    receiving_county: str | None = Field(
        default=None,
        pattern=r"^\d{6}$",
        description="file_handover (R45): the household-register county bureau that receives the file",
    )

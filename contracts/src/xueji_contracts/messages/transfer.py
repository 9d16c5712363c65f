"""Payloads on the transfer topics: stage messages, decisions, SLA events and case outcomes (R21-R23).

`transfer.stage.v1` carries StageOpened / StageDeadlineChanged / StageClosed addressed to the
responsible jurisdiction; `transfer.sla.v1` carries warnings, breaches and escalations;
`transfer.case.v1` carries the case's lifecycle; `transfer.decision.v1` carries decisions in.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from xueji_contracts.messages.status_file import PaperRecord

CODE = r"^\d{6}(\d{4})?$"


class Stage(StrEnum):
    """The four verifying parties of R22, in the order of R21 steps 3-6."""

    RECEIVING_SCHOOL = "receiving_school"
    RECEIVING_BUREAU = "receiving_bureau"
    SENDING_SCHOOL = "sending_school"
    SENDING_BUREAU = "sending_bureau"


class Decision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    RETURN_FOR_MATERIALS = "return_for_materials"


class Level(StrEnum):
    SCHOOL = "school"
    COUNTY = "county"
    CITY = "city"
    PROVINCE = "province"
    MINISTRY = "ministry"


class _Message(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    transfer_id: str = Field(min_length=1)


class _CaseMessage(_Message):
    """A message about one case, told by transfer: carries its readable number when the case has one."""

    case_number: str | None = Field(
        default=None,
        pattern=r"^ZX-\d{6}-\d{4}-\d{6,}$",
        description="readable case number (ZX-<receiving county>-<year>-<seq>); absent on cases numbered before it",
    )


class StageDeadline(BaseModel):
    """When a stage is due and warned, and which calendar said so (provisional: no notice loaded)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    opened_at: AwareDatetime
    due_at: AwareDatetime
    warn_at: AwareDatetime
    calendar_version: str
    provisional: bool


class StageOpened(_CaseMessage):
    stage: Stage
    step: int = Field(ge=3, le=6)
    jurisdiction: str = Field(pattern=CODE, description="school code or division code responsible")
    deadline: StageDeadline
    student_id: str
    sending_school: str = Field(pattern=CODE)
    receiving_school: str = Field(pattern=CODE)
    interprovincial: bool = False


class StageDeadlineChanged(_CaseMessage):
    """A newly loaded calendar notice moved an open stage's deadline."""

    stage: Stage
    jurisdiction: str = Field(pattern=CODE)
    previous: StageDeadline
    deadline: StageDeadline


class StageClosed(_CaseMessage):
    stage: Stage
    jurisdiction: str = Field(pattern=CODE)
    decision: Decision
    reason: str | None = None
    decided_by: str
    decided_at: AwareDatetime


class StageWarning(_CaseMessage):
    stage: Stage
    jurisdiction: str = Field(pattern=CODE)
    due_at: AwareDatetime
    working_days_left: int


class StageBreached(_CaseMessage):
    """The deadline passed with the stage still open; it stays open and escalates (R22)."""

    stage: Stage
    jurisdiction: str = Field(pattern=CODE)
    due_at: AwareDatetime
    escalated_to_level: Level
    escalated_to: str = Field(description="division code of the level now responsible for chasing it")
    escalation_count: int = Field(ge=1)


class DecisionSubmitted(_Message):
    """A decision on an open stage, from the HTTP API or another system, on `transfer.decision.v1`."""

    stage: Stage
    decision: Decision
    reason: str | None = Field(default=None, description="required for reject and return_for_materials")
    operator: str
    operator_code: str = Field(pattern=CODE)
    reason_code: str | None = Field(default=None, description="why a rejection, e.g. conditions_not_met; default other")
    requested: tuple[str, ...] = Field(default=(), description="materials asked for on a return, by evidence kind")


class CaseOutcome(StrEnum):
    OPENED = "opened"
    COMPLETED = "completed"
    REJECTED = "rejected"
    OFFLINE_OPENED = "offline_opened"
    OFFLINE_ACCEPTED = "offline_accepted"
    RECONCILED = "reconciled"
    ROLLED_BACK = "rolled_back"
    PAPER_FILE_OVERDUE = "paper_file_overdue"  # R32: the sending school's paper file is late; told to its county


class CaseKind(StrEnum):
    TRANSFER = "transfer"  # 转学: moving school while studying
    PROGRESSION = "progression"  # 毕业后升学: a graduate going on to the next segment at the receiving school


class TransferCaseChanged(_CaseMessage):
    """The case moved: the registry moves the student on completed / offline_accepted / rolled_back."""

    outcome: CaseOutcome
    kind: CaseKind = Field(default=CaseKind.TRANSFER, description="absent on messages sent before it: a transfer")
    target_grade: int | None = Field(
        default=None, ge=1, le=12, description="a progression: the grade at the receiving school (the next segment)"
    )
    student_id: str
    sending_school: str = Field(pattern=CODE)
    receiving_school: str = Field(pattern=CODE)
    reason: str | None = None
    at: AwareDatetime
    paper_record: PaperRecord | None = Field(
        default=None, description="offline_accepted from another province: the record starts from the paper form"
    )
    offline_accepted: bool = Field(
        default=False,
        description="rejected after the receiving school accepted the student offline (R23): the system's record "
        "prevails, so the registry moves the student back to the sending school",
    )

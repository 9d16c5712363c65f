"""What every recorded event carries (R12): the student, who acted, when, why and the evidence."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Generic, TypedDict, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, PlainSerializer, TypeAdapter, ValidationInfo

from xueji_contracts.auth import OperatorClaims, Role
from xueji_contracts.messages.status import StatusState
from xueji_registry.domain.evidence import EvidenceRef

# The validation context of what is read back from the store: a check made on what comes in (a name with a lost
# character, say) is not made again on what was stored before the check existed, which would then never load.
STORED: dict[str, Any] = {"stored": True}


def read_back(info: ValidationInfo) -> bool:
    """Whether a validator runs on a stored event read back (`STORED`), not on input."""
    return bool(info.context and info.context.get("stored"))


class Actor(BaseModel):
    """Who did it: the operator id, the level they acted at and their jurisdiction code."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    operator_id: str = Field(min_length=1)
    role: Role
    code: str = Field(pattern=r"^\d{6}(\d{4})?$")

    @classmethod
    def of(cls, claims: OperatorClaims) -> Actor:
        return cls(operator_id=claims.sub, role=claims.role, code=claims.code)


class OperatorCommand(BaseModel):
    """Base of every command an operator or another service asks of a status record: who asks, why, with what
    evidence (the R12 fields its events record)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    operator: OperatorClaims
    reason: str = Field(min_length=1, max_length=500)
    evidence: tuple[EvidenceRef, ...] = ()


class CheckOutcome(StrEnum):
    """The answer of an external check: the national duplicate check, the population-register comparison."""

    PASSED = "passed"
    FAILED = "failed"
    NOT_RUN = "not_run"


class RegistryEventBase(BaseModel):
    """Base of every event: nothing is overwritten, so these fields are the permanent history (R12)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    student_id: str = Field(min_length=1)
    at: AwareDatetime
    by: Actor
    reason: str = Field(min_length=1)
    evidence: tuple[EvidenceRef, ...] = ()


class TransitionEventBase(RegistryEventBase):
    """A change of status; `change_id` links it to the request it settles, if there was one."""

    change_id: str | None = None
    from_state: StatusState | None
    to_state: StatusState


class Recorded(TypedDict):
    """The R12 fields of one event, built once per decision and spread into each event it records."""

    student_id: str
    at: datetime
    by: Actor
    reason: str
    evidence: tuple[EvidenceRef, ...]


def recorded(command: OperatorCommand, student_id: str, at: datetime) -> Recorded:
    """The R12 fields of the events one command records on a student's stream."""
    return Recorded(
        student_id=student_id, at=at, by=Actor.of(command.operator), reason=command.reason, evidence=command.evidence
    )


class Moved(Recorded):
    """The R12 fields plus where a status transition leads."""

    change_id: str | None
    from_state: StatusState | None
    to_state: StatusState


# Stored as `datetime.isoformat()` text, as the untyped roster and batch events were, so what routes show of them
# is unchanged.
Moment = Annotated[AwareDatetime, PlainSerializer(lambda at: at.isoformat(), return_type=str)]


class StreamEvent(BaseModel):
    """Base of the events of the registry's other streams (rosters, batches): when it happened."""

    # Reading what was stored: a field a later version adds is no reason to refuse an old stream.
    model_config = ConfigDict(frozen=True, extra="ignore")

    at: Moment


E = TypeVar("E")


class StreamEvents(Generic[E]):
    """Reads one stream's stored events as the typed events they are now, old type names included (an upcaster
    for the names changed since they were stored), and writes them in the shape they are stored in."""

    def __init__(self, events: TypeAdapter[E], old_names: Mapping[str, str]) -> None:
        self._events = events
        self._old_names = old_names

    def from_documents(self, documents: Iterable[Mapping[str, Any]]) -> list[E]:
        return [self._events.validate_python(self._renamed(d), context=STORED) for d in documents]

    def _renamed(self, document: Mapping[str, Any]) -> dict[str, Any]:
        kind = str(document.get("type"))
        return {**document, "type": self._old_names.get(kind, kind)}


def to_document(event: BaseModel) -> dict[str, Any]:
    document: dict[str, Any] = event.model_dump(mode="json")
    return document

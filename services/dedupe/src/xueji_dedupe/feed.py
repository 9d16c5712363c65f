"""The identity feed as the index sees it: which message types it holds, and contract payloads as domain facts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter

from xueji_contracts.division import Division
from xueji_contracts.envelope import Envelope
from xueji_contracts.messages.dedupe import (
    IdentityChanged,
    IdentityRecorded,
    IdentityRefused,
    IdentityRemoved,
    PersonIdentity,
)
from xueji_dedupe.domain import CandidateRecord, CheckRequest

IDENTITY_TYPES: dict[str, TypeAdapter[Any]] = {
    model.__name__: TypeAdapter(Envelope[model])  # type: ignore[valid-type]
    for model in (IdentityRecorded, IdentityChanged, IdentityRemoved, IdentityRefused)
}

_JSON_OBJECT: TypeAdapter[dict[str, Any]] = TypeAdapter(dict[str, Any])


@dataclass(frozen=True, slots=True)
class IdentityUpdate:
    """One student's record as of `version`; `record` None means removed (R13)."""

    student_id: str
    version: int
    record: CandidateRecord | None
    province: str


def region_of(person: PersonIdentity) -> str:
    """The household-register county (户籍所在地) where known, else the region given, else the ID number's region,
    else the school's county."""
    if person.household_register:
        return person.household_register
    if person.region_code:
        return person.region_code
    if person.id_number:
        return person.id_number[:6]
    if person.status_number and person.status_number[0] == "G":
        return person.status_number[1:7]
    return Division.parse(person.school_code).county.code


def facts_of(person: PersonIdentity) -> dict[str, Any]:
    return {
        "student_id": person.student_id,
        "name": person.name,
        "id_number": person.id_number,
        "birth_date": person.birth_date,
        "gender": person.gender,
        "region_code": region_of(person),
        "school_code": person.school_code,
        "status_number": person.status_number,
        "guardians": person.guardians,
    }


def check_request(person: PersonIdentity) -> CheckRequest:
    return CheckRequest.model_validate(facts_of(person))


def parse_identity(body: bytes | dict[str, Any]) -> Envelope[Any] | None:
    """The message as its own type, or None for a type this consumer does not know (additive contracts).

    A known type that does not validate raises (ValidationError), and so does JSON that is not an envelope at all
    (no type): the caller dead-letters it.
    """
    raw = body if isinstance(body, dict) else _JSON_OBJECT.validate_json(body)
    kind = raw.get("type")
    if not isinstance(kind, str):
        raise ValueError("not a message envelope: no type")
    adapter = IDENTITY_TYPES.get(kind)
    return adapter.validate_python(raw) if adapter is not None else None


def refused_of(message: Envelope[Any]) -> CandidateRecord | None:
    """The person a refused creation had been answered for (IdentityRefused), else None: a record's update."""
    if isinstance(message.payload, IdentityRefused):
        return CandidateRecord.model_validate(facts_of(message.payload))
    return None


def update_of(message: Envelope[Any]) -> IdentityUpdate:
    payload = message.payload
    if isinstance(payload, IdentityRemoved):
        return IdentityUpdate(payload.student_id, payload.record_version, None, message.province)
    record = CandidateRecord.model_validate(facts_of(payload))
    return IdentityUpdate(payload.student_id, payload.record_version, record, message.province)

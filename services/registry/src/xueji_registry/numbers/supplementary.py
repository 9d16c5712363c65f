"""R07 supplementary numbers: requested on registry.enrollment.v1 keyed by school: one writer per school."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field

from xueji_contracts.auth import OperatorClaims, Role
from xueji_contracts.envelope import envelop
from xueji_contracts.messages.status import StatusState
from xueji_contracts.topics import REGISTRY_ENROLLMENT
from xueji_kit.store import Outgoing
from xueji_registry.domain import SchoolNumbering, StudentStatus
from xueji_registry.service import Extra, RegistryService


class SupplementaryRequested(BaseModel):
    """R07: give this new record its school's next supplementary number (keyed by school: one writer per school).
    Registry-private: the registry asks itself, so the allocation for one school runs on one partition."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    student_id: str
    school_code: str = Field(pattern=r"^\d{10}$")
    school_year: int


def numbering_of(school_code: str) -> SchoolNumbering:
    """Adapter: the school's place in the layout, read from its 10-digit code: the county division code's last two
    digits (5-6), then the 4-digit school number as township (7-8) and school (9-10)."""
    return SchoolNumbering(county=school_code[4:6], township=school_code[6:8], school=school_code[8:10])


def school_operator(school_code: str) -> OperatorClaims:
    """The registry acting for the school on its own record (the allocation the school's enrollment asked for)."""
    return OperatorClaims(sub="registry", role=Role.SCHOOL, code=school_code)


def request_supplementary(service: RegistryService, school_year: int, correlation_id: uuid.UUID | None) -> Extra:
    """Once a record is enrolled without a supplementary number, ask for one (through the outbox)."""

    def extra(after: StudentStatus) -> list[Outgoing]:
        if after.state is not StatusState.ENROLLED or after.segment in after.supplementary_numbers:
            return []
        if service.rules.layout is None:
            return []  # R07: the province's policy sets no supplementary number
        payload = SupplementaryRequested(
            student_id=after.student_id, school_code=after.school_code, school_year=school_year
        )
        message = envelop(
            payload,
            producer="registry",
            province=service.province,
            occurred_at=datetime.now(UTC),
            correlation_id=correlation_id,
        )
        return [Outgoing(REGISTRY_ENROLLMENT.name, after.school_code, message)]

    return extra

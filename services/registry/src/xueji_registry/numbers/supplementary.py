"""R07 supplementary numbers: requested on registry.enrollment.v1 keyed by school, drawn from the sequence of the
number's series (`series_scope`), which schools of one series share (unique inserts keep it gapless)."""

from __future__ import annotations

import functools
import uuid
from datetime import UTC, datetime

import structlog
from pydantic import BaseModel, ConfigDict, Field

from xueji_contracts.auth import OperatorClaims, Role
from xueji_contracts.envelope import envelop
from xueji_contracts.messages.status import StatusState
from xueji_contracts.policy import SupplementaryNumberFormat
from xueji_contracts.topics import REGISTRY_ENROLLMENT
from xueji_kit.outbox_entries import Outgoing
from xueji_registry.allocation import Sequences
from xueji_registry.domain import StudentStatus
from xueji_registry.domain.errors import Refused
from xueji_registry.domain.periods import Segment
from xueji_registry.domain.supplementary import numbering_of, supplementary_series
from xueji_registry.service import Extra, RegistryService

log = structlog.get_logger("registry.numbers")


class SupplementaryRequested(BaseModel):
    """R07: give this new record the next supplementary number of its series (keyed by school on the topic).
    Registry-private: the registry asks itself, so the allocation for one school runs on one partition."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    student_id: str
    school_code: str = Field(pattern=r"^\d{10}$")
    school_year: int


SERIES = "R07:"  # a series sequence: R07:{the number's digits before the sequence}, e.g. R07:124020001NNNN
FORMER = "S:"  # an earlier version's sequence per school and school year: S:{school}:{year}


@functools.lru_cache(maxsize=8192)  # a province's schools and years: asked once a student, worked out once a series
def series_scope(segment: Segment, school_year: int, school_code: str, layout: SupplementaryNumberFormat | None) -> str:
    """R07: the sequence a freshman's number is drawn from: its series (every digit before the sequence), not its
    school, so two schools whose codes give the same digits share one gapless sequence and never give one number
    twice, and a school teaching two segments has a sequence per segment. Refused (R07) when the layout has no
    number for the school."""
    return SERIES + supplementary_series(segment, school_year, numbering_of(school_code), layout)


async def carry_over_school_scopes(sequences: Sequences, layout: SupplementaryNumberFormat | None) -> None:
    """Run once at start: numbers an earlier version drew from one sequence per school and school year
    (`S:{school}:{year}`, shared by the school's segments) are not given again by the series sequences. Each series
    starts above the highest of those numbers of every school it covers (in any segment: the old sequence was shared).
    Done once (marked by `{SERIES}upgraded!floor`); safe to repeat or to run on two replicas at once."""

    async def floors() -> dict[str, int]:
        found: dict[str, int] = {}
        for scope, top in (await sequences.tops_under(FORMER)).items():
            school, _, year = scope.removeprefix(FORMER).partition(":")
            for segment in Segment:
                try:
                    series = series_scope(segment, int(year), school, layout)
                except (Refused, ValueError):
                    continue  # a school the layout has no number for in this segment
                found[series] = max(found.get(series, 0), top)
        return found

    if layout is not None and (count := await sequences.start_above_once(f"{SERIES}upgraded", floors)) is not None:
        log.info("r07_series_above_former_school_sequences", series=count)


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

"""The public view of a record (R52): what other systems may see; never a raw ID number or personal details."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from xueji_contracts.identity import mask_id_number
from xueji_contracts.messages.status import StatusState
from xueji_registry.domain.periods import Segment
from xueji_registry.domain.state import StudentStatus


class PublicStatusView(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    student_id: str = Field(description="opaque, stable student id")
    version: int
    school_code: str
    county_code: str
    state: StatusState
    status_number_masked: str = Field(description="G/L/J kept, birth date and sequence hidden")
    segment: Segment
    grade: int
    supplementary_numbers: dict[Segment, str]
    closed: bool


def public_view(state: StudentStatus) -> PublicStatusView:
    """The masked view: name, ID number, birth date and guardian details stay inside the registry."""
    return PublicStatusView(
        student_id=state.student_id,
        version=state.version,
        school_code=state.school_code,
        county_code=state.county_code,
        state=state.state,
        status_number_masked=mask_id_number(state.status_number),
        segment=state.segment,
        grade=state.grade,
        supplementary_numbers=dict(state.supplementary_numbers),
        closed=state.closure is not None,
    )

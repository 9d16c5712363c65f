"""The electronic status file between provinces (R21 step 7, R34): built from the record that leaves, read into
the record that arrives. The envelope names the RECEIVING province, so the hub's mirror can route it there alone."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from xueji_contracts.auth import province_of
from xueji_contracts.envelope import envelop
from xueji_contracts.messages.status_file import FileGender, FileSegment, PaperRecord, StatusFileTransferred
from xueji_contracts.topics import INTERPROVINCE_FILE
from xueji_kit.outbox_entries import Outgoing
from xueji_registry.domain import StudentStatus
from xueji_registry.domain.periods import Segment
from xueji_registry.domain.person import BasicInfo, Gender, StudentIdentity
from xueji_registry.domain.rules import DEFAULT_RULES
from xueji_registry.domain.status_events import Arrival


def file_of(
    state: StudentStatus, transfer_id: str, receiving_school: str, *, progression_grade: int | None = None
) -> StatusFileTransferred:
    return StatusFileTransferred(
        transfer_id=transfer_id,
        student_id=state.student_id,
        sending_school=state.school_code,
        receiving_school=receiving_school,
        status_number=state.status_number,
        previous_numbers=state.previous_numbers,
        name=state.identity.name,
        id_number=state.identity.id_number,
        gender=FileGender(state.identity.gender.value),
        birth_date=state.identity.birth_date,
        ethnicity=state.basic.ethnicity,
        segment=FileSegment(state.segment.value),
        grade=state.grade,
        graduation_grade=state.graduation_grade,
        admitted_on=state.admitted_on,
        progression_grade=progression_grade,
    )


def file_message(file: StatusFileTransferred, correlation_id: uuid.UUID | None) -> Outgoing:
    message = envelop(
        file,
        producer="registry",
        province=province_of(file.receiving_school),  # addressed: the mirror routes by this province's header
        occurred_at=datetime.now(UTC),
        correlation_id=correlation_id,
    )
    return Outgoing(INTERPROVINCE_FILE.name, file.student_id, message)


def arrival_of(file: StatusFileTransferred) -> Arrival:
    """What the receiving province's record starts from; the supplementary number stays behind (R07)."""
    return Arrival(
        student_id=file.student_id,
        identity=_identity(file),
        basic=BasicInfo(ethnicity=file.ethnicity),
        status_number=file.status_number,
        segment=Segment(file.segment.value),
        grade=file.grade,
        graduation_grade=file.graduation_grade,
        admitted_on=file.admitted_on,
    )


def paper_arrival(student_id: str, paper: PaperRecord) -> Arrival:
    """R23, R34: an offline acceptance from another province starts the record from the paper form; the electronic
    file reconciles it when the system path completes."""
    segment = Segment(paper.segment.value)
    return Arrival(
        student_id=student_id,
        identity=_identity(paper),
        status_number=paper.status_number,
        segment=segment,
        grade=paper.grade,
        graduation_grade=paper.graduation_grade or DEFAULT_RULES.graduation_grades[segment],
        admitted_on=paper.admitted_on,
        source="paper_form",
    )


def _identity(given: StatusFileTransferred | PaperRecord) -> StudentIdentity:
    """The person as the electronic file or the paper form gives them."""
    gender = Gender(given.gender.value)
    return StudentIdentity(name=given.name, id_number=given.id_number, gender=gender, birth_date=given.birth_date)

"""Registry test helpers: dedupe's answers as the stub gives them, a freshly enrolled record, topic reading."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from province_rules import handle

from xueji_contracts.auth import OperatorClaims, Role
from xueji_contracts.envelope import Envelope, envelop
from xueji_contracts.identity import check_character
from xueji_contracts.messages.dedupe import VerdictGiven, VerdictKind
from xueji_registry.domain import (
    DuplicateCheck,
    DuplicateOutcome,
    EnrollStudent,
    EvidenceKind,
    EvidenceRef,
    Segment,
    StudentIdentity,
    StudentStatus,
)

CST = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 9, 1, 9, 0, tzinfo=CST)
SCHOOL = "3506020001"
SCHOOL_CLERK = OperatorClaims(sub="clerk-1", role=Role.SCHOOL, code=SCHOOL)

Answer = Callable[[dict[str, Any]], VerdictGiven | None]


def verdict(kind: VerdictKind, existing: str | None = None, score: float = 0.0) -> Answer:
    """An answer of that kind to any check, as dedupe gives it."""

    def answer(check: dict[str, Any]) -> VerdictGiven:
        return VerdictGiven(
            verdict=kind,
            student_id=check["student_id"],
            score=score,
            existing_student_id=existing,
            reason_zh="测试答复",
            reason_en="test answer",
        )

    return answer


unique = verdict(VerdictKind.UNIQUE)


def unique_verdict_for(student: str) -> Envelope[VerdictGiven]:
    """dedupe's "unique" verdict on the creation check of the pending request `student` (as its consumer gets it)."""
    correlation, answer = uuid.UUID(student.removeprefix("stu_")), unique({"student_id": student})
    assert answer is not None
    return envelop(answer, producer="dedupe", province="35", occurred_at=datetime.now(UTC),
                   correlation_id=correlation)  # fmt: skip


async def advance_to(compliance: Any, at: Any) -> int:
    """Tick the compliance scheduler at every armed timer's due time up to `at`, as the wall clock would."""
    from datetime import timedelta

    fired = 0
    while True:
        armed = await compliance.store.armed()
        due = sorted(doc["due_at"] for doc in armed if doc["due_at"] <= at)
        if not due:
            break
        fired += await compliance.tick(due[0] + timedelta(seconds=1))
    return fired


def evidence(kind: EvidenceKind) -> EvidenceRef:
    return EvidenceRef(kind=kind, uri=f"s3://evidence/{kind.value}", sha256=hashlib.sha256(kind.encode()).hexdigest())


def enrolled() -> StudentStatus:
    return enrollment()[0]


def enrollment() -> tuple[StudentStatus, list[Any]]:
    """A first-grader enrolled at SCHOOL on 2026-09-01, and the events that recorded her."""
    first17 = "35060220190315123"
    person = StudentIdentity(
        name="林小雨", id_number=first17 + check_character(first17), gender="female", birth_date=date(2019, 3, 15)
    )
    state, events = handle(
        EnrollStudent(
            operator=SCHOOL_CLERK, reason="新生入学", student_id="stu-1", school_code=SCHOOL,
            segment=Segment.PRIMARY, grade=1, identity=person, admitted_on=date(2026, 9, 1), number_counter=1,
            duplicate_check=DuplicateCheck(outcome=DuplicateOutcome.CLEAR),
        ),
        None,
        T0,
    )  # fmt: skip
    assert state is not None
    return state, list(events)

"""Builds the contract messages notify consumes, exactly as transfer, registry and dedupe publish them."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiokafka import AIOKafkaProducer

from xueji_contracts.envelope import Envelope, envelop
from xueji_contracts.messages.registry import ComplianceDeadlineChanged
from xueji_contracts.messages.status import StudentStatusRecorded
from xueji_contracts.messages.transfer import (
    StageBreached,
    StageClosed,
    StageDeadline,
    StageOpened,
    StageWarning,
    TransferCaseChanged,
)
from xueji_contracts.topics import STUDENT_STATUS, TRANSFER_CASE, TRANSFER_SLA, TRANSFER_STAGE

SHANGHAI = ZoneInfo("Asia/Shanghai")
SCHOOL = "3506020001"  # a school in Xiangcheng district (350602), Zhangzhou (3506), Fujian (35)
OTHER_SCHOOL = "3506020002"
COUNTY = "350602"
CITY_CODE = "350600"
FAR_COUNTY = "350102"  # Gulou district, Fuzhou
FAR_SCHOOL = "3501020001"
TOPIC_OF = {
    StageOpened: TRANSFER_STAGE, StageClosed: TRANSFER_STAGE, StageWarning: TRANSFER_SLA,
    StageBreached: TRANSFER_SLA, TransferCaseChanged: TRANSFER_CASE, StudentStatusRecorded: STUDENT_STATUS,
}  # fmt: skip


def end_of_day(day: date) -> datetime:
    """24:00 Asia/Shanghai of `day`, as the transfer service stores a deadline."""
    return datetime.combine(day + timedelta(days=1), time(0), SHANGHAI).astimezone(UTC)


def _wrap(payload: Any, at: datetime | None = None) -> Envelope[Any]:
    return envelop(payload, producer="transfer", province="35", occurred_at=at or datetime.now(UTC))


def transfer_id() -> str:
    return f"tr_{uuid.uuid4().hex[:12]}"


def opened(
    tid: str,
    jurisdiction: str = SCHOOL,
    *,
    stage: str = "receiving_school",
    step: int = 3,
    due: date | None = None,
    provisional: bool = False,
    at: datetime | None = None,
    case_number: str | None = None,
) -> Envelope[Any]:
    now = at or datetime.now(UTC)
    due_at = end_of_day(due or (now.astimezone(SHANGHAI).date() + timedelta(days=14)))
    deadline = StageDeadline(
        opened_at=now,
        due_at=due_at,
        warn_at=due_at - timedelta(days=2),
        calendar_version="test-weekdays",
        provisional=provisional,
    )
    return _wrap(StageOpened(transfer_id=tid, stage=stage, step=step, jurisdiction=jurisdiction, deadline=deadline,
                             student_id=f"stu_{tid}", sending_school=FAR_SCHOOL, receiving_school=SCHOOL,
                             case_number=case_number), now)  # fmt: skip


def closed(
    tid: str,
    jurisdiction: str = SCHOOL,
    *,
    stage: str = "receiving_school",
    decision: str = "approve",
    reason: str | None = None,
) -> Envelope[Any]:
    now = datetime.now(UTC)
    return _wrap(StageClosed(transfer_id=tid, stage=stage, jurisdiction=jurisdiction, decision=decision,
                             reason=reason, decided_by="clerk-1", decided_at=now), now)  # fmt: skip


def warning(
    tid: str, due_at: datetime, jurisdiction: str = SCHOOL, *, stage: str = "receiving_school"
) -> Envelope[Any]:
    return _wrap(StageWarning(transfer_id=tid, stage=stage, jurisdiction=jurisdiction, due_at=due_at,
                              working_days_left=2))  # fmt: skip


def breached(
    tid: str,
    due_at: datetime,
    jurisdiction: str = SCHOOL,
    *,
    stage: str = "receiving_school",
    to: str = COUNTY,
    level: str = "county",
    count: int = 1,
) -> Envelope[Any]:
    return _wrap(StageBreached(transfer_id=tid, stage=stage, jurisdiction=jurisdiction, due_at=due_at,
                               escalated_to_level=level, escalated_to=to, escalation_count=count))  # fmt: skip


def case(tid: str, outcome: str, receiving: str = SCHOOL, sending: str = FAR_SCHOOL) -> Envelope[Any]:
    now = datetime.now(UTC)
    return _wrap(TransferCaseChanged(transfer_id=tid, outcome=outcome, student_id=f"stu_{tid}",
                                     sending_school=sending, receiving_school=receiving, at=now), now)  # fmt: skip


def compliance(
    deadline_id: str,
    state: str,
    *,
    kind: str = "annual_roster",
    rule: str = "R54",
    jurisdiction: str = SCHOOL,
    flagged_to: str | None = None,
    receiving_county: str | None = None,
) -> Envelope[Any]:
    due = end_of_day(datetime.now(SHANGHAI).date() + timedelta(days=3))
    return _wrap(ComplianceDeadlineChanged(deadline_id=deadline_id, kind=kind, state=state, rule=rule,
                                           jurisdiction=jurisdiction, subject_id=jurisdiction, due_at=due,
                                           flagged_to=flagged_to, receiving_county=receiving_county))  # fmt: skip


class Upstream:
    """Publishes contract messages to the test's topics with aiokafka, keyed like the real producers."""

    def __init__(self, isolation: Any) -> None:
        self.isolation = isolation
        self.producer = AIOKafkaProducer(bootstrap_servers=isolation.servers.kafka)

    async def __aenter__(self) -> Upstream:
        await self.producer.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.producer.stop()

    async def send(self, *messages: Envelope[Any], topic: str | None = None) -> None:
        for message in messages:
            name = topic or TOPIC_OF[type(message.payload)].name
            key = getattr(message.payload, "transfer_id", None) or getattr(message.payload, "student_id", "k")
            await self.producer.send_and_wait(
                self.isolation.topic(name), message.model_dump_json().encode(), key=key.encode()
            )

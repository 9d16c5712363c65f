"""R52 public status feed over the real broker and store: every kind of change is one message on student.status.v1
naming the change, the state and school before it, the day it took effect and a gapless per-student sequence; the
compacted snapshot topic holds each student's latest status; sequences survive a registry restart."""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from kafka_messages import published

from xueji_contracts.auth import OperatorClaims, Role
from xueji_contracts.identity import check_character
from xueji_contracts.topics import STUDENT_STATUS, STUDENT_STATUS_SNAPSHOT
from xueji_registry import domain as d
from xueji_registry.app import create_app
from xueji_registry.domain.record_changes import ChangeKeyInfo
from xueji_registry.numbers.certificates import execute_drawing
from xueji_registry.service import RegistryService
from xueji_registry.settings import RegistrySettings

pytestmark = pytest.mark.integration
E = d.EvidenceKind
CST = ZoneInfo("Asia/Shanghai")
T0 = datetime(2024, 9, 10, 9, 0, tzinfo=CST)
SCHOOL, OTHER_SCHOOL = "3506020001", "3506030001"
COUNTY = OperatorClaims(sub="county-1", role=Role.COUNTY, code="350602")
PROVINCE = OperatorClaims(sub="province-1", role=Role.PROVINCE, code="350000")
MINISTRY = OperatorClaims(sub="moe-1", role=Role.MINISTRY, code="000000")
ILLNESS = (E.SUSPENSION_APPLICATION, E.MEDICAL_CERTIFICATE)


def _clerk(school: str) -> OperatorClaims:
    return OperatorClaims(sub=f"clerk-{school}", role=Role.SCHOOL, code=school)


def _evidence(*kinds: d.EvidenceKind) -> tuple[d.EvidenceRef, ...]:
    return tuple(d.EvidenceRef(kind=k, uri=f"s3://e/{k.value}", sha256=hashlib.sha256(k.encode()).hexdigest()) for k in kinds)  # fmt: skip


def _person(sequence: int) -> d.StudentIdentity:
    first17 = f"35060220150315{sequence:03d}"
    return d.StudentIdentity(name="林小雨", id_number=first17 + check_character(first17), gender="female",
                           birth_date=date(2015, 3, 15))  # fmt: skip


class Student:
    """One record driven through the registry's own write path at chosen moments (RegistryService.execute, by way of
    execute_drawing, which draws a graduation's certificate sequence from its series, R08)."""

    def __init__(self, service: RegistryService, student_id: str) -> None:
        self.service, self.student_id, self.commits = service, student_id, 0
        self.school = SCHOOL

    async def do(self, command: Any, days: int = 0) -> None:
        self.commits += 1
        await execute_drawing(
            self.service, self.student_id, f"{self.student_id}:{self.commits}", command, now=T0 + timedelta(days=days)
        )

    async def enroll(
        self, segment: d.Segment, grade: int, outcome: d.DuplicateOutcome = d.DuplicateOutcome.CLEAR
    ) -> None:
        check = d.DuplicateCheck(outcome=outcome, existing_student_id=None if outcome == "clear" else "stu-elsewhere")
        await self.do(d.EnrollStudent(
            operator=_clerk(SCHOOL), reason="新生入学", student_id=self.student_id, school_code=SCHOOL, segment=segment,
            grade=grade, identity=_person(int(self.student_id[-3:])), admitted_on=date(2024, 9, 1),
            number_counter=int(self.student_id[-3:]), duplicate_check=check,
        ))  # fmt: skip

    async def ask(self, details: Any, *kinds: d.EvidenceKind, days: int = 0, by: OperatorClaims | None = None) -> None:
        by = by or _clerk(self.school)
        await self.do(d.RequestChange(operator=by, reason="申请", evidence=_evidence(*kinds), details=details), days)

    async def review(self, days: int = 0, approve: bool = True, by: OperatorClaims | None = None) -> None:
        state = await self.service.load(self.student_id)
        assert state is not None and state.pending, state
        by = by or OperatorClaims(sub="county-1", role=Role.COUNTY, code=self.school[:6])
        change_id = state.pending[-1].change_id
        await self.do(d.ReviewChange(operator=by, reason="审核", change_id=change_id, approve=approve), days)


@contextlib.asynccontextmanager
async def registry(isolation: Any, signing_keys: tuple[str, str]) -> AsyncIterator[RegistryService]:
    """A registry replica on the test's store and topics; leaving the block stops it (a restart is a new block)."""
    settings = RegistrySettings(
        **isolation.settings_env(), mongodb_database=f"{isolation.database}_registry",
        jwt_public_key=signing_keys[1], relay_interval_seconds=0.05, scheduler_enabled=False,
    )  # fmt: skip
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app.state.registry


def _arrival(student_id: str, source: str, grade: int) -> d.Arrival:
    return d.Arrival(student_id=student_id, identity=_person(900), status_number="G" + _person(900).id_number,
                   segment=d.Segment.PRIMARY, grade=grade, graduation_grade=6, admitted_on=date(2022, 9, 1),
                   source=source)  # fmt: skip


async def _live_every_kind_of_change(service: RegistryService) -> dict[str, list[str]]:
    """Drive one record (or more) through each kind of change; returns the kinds expected per student, in order."""
    a = Student(service, "stu-001")
    await a.enroll(d.Segment.PRIMARY, 3)
    await a.ask(
        d.Suspend(cause=d.SuspensionCause.ILLNESS, term=d.SchoolTerm(school_year=2024, term=d.Term.FIRST)), *ILLNESS
    )
    await a.review(days=3)
    await a.ask(d.ExtendSuspension(), E.WRITTEN_APPLICATION, days=360)
    await a.review(days=360)
    await a.ask(d.Resume(grade=3, term=d.SchoolTerm(school_year=2025, term=d.Term.FIRST)), E.WRITTEN_APPLICATION,
                E.RECOVERY_CERTIFICATE, days=400)  # fmt: skip
    await a.review(days=400)
    await a.ask(d.GoAbroad(), E.ABROAD_APPLICATION, E.PASSPORT, days=450)
    await a.ask(d.ReturnFromAbroad(), days=500)
    await a.do(d.RecordTransferIn(operator=OperatorClaims(sub="transfer-service", role=Role.COUNTY, code="350603"),
                                reason="转学", transfer_id="tr-1", receiving_school=OTHER_SCHOOL), days=510)  # fmt: skip
    a.school = OTHER_SCHOOL
    await a.ask(ChangeKeyInfo(name="林晓雨"), E.HOUSEHOLD_REGISTER, days=520)
    await a.review(days=521)
    county = OperatorClaims(sub="county-2", role=Role.COUNTY, code="350603")
    state = await service.load(a.student_id)
    assert state is not None
    checks = d.RecordNationalChecks(operator=county, reason="全国查重", change_id=state.pending[-1].change_id,
                                  duplicate_check=d.CheckOutcome.PASSED, identity_comparison=d.CheckOutcome.PASSED)  # fmt: skip
    await a.do(checks, days=522)
    await a.do(d.IssueFormalNumber(operator=PROVINCE, reason="春季 G 号批次", duplicate_check=d.CheckOutcome.PASSED,
                                 identity_comparison=d.CheckOutcome.PASSED), days=530)  # fmt: skip
    since = (T0 + timedelta(days=530)).date()
    await a.ask(d.AbsenceDropout(absent_since=since, contact_attempts=3), E.CONTACT_RECORD, days=560)
    await a.ask(d.ResumeAfterDropout(), E.WRITTEN_APPLICATION, days=570)
    await a.review(days=571)
    await a.ask(d.Death(date_of_death=(T0 + timedelta(days=578)).date()), E.DEATH_CERTIFICATE, days=580)
    await a.review(days=581)

    b = Student(service, "stu-002")
    await b.enroll(d.Segment.JUNIOR, 9)
    await b.ask(d.Graduate(graduation_year=2025), E.GRADUATION_ROSTER, days=280)
    await b.review(days=285)
    c = Student(service, "stu-003")
    await c.enroll(d.Segment.SENIOR, 12)
    await c.ask(d.Complete(), E.COMPLETION_ROSTER, days=280)
    d4 = Student(service, "stu-004")
    await d4.enroll(d.Segment.SENIOR, 11)
    await d4.ask(d.Leave(study_from=date(2023, 9, 1), study_to=date(2024, 9, 10)))
    e = Student(service, "stu-005")
    await e.enroll(d.Segment.PRIMARY, 3)
    await e.do(d.RecordTransferOut(operator=COUNTY, reason="跨省转学", transfer_id="tr-2", receiving_school="4301020001"),
               days=20)  # fmt: skip
    f = Student(service, "stu-006")
    await f.enroll(d.Segment.PRIMARY, 3)
    await f.ask(d.DeleteRecord(), E.PROVINCE_SUBMISSION, by=PROVINCE, days=30)
    await f.review(by=MINISTRY, days=40)
    g = Student(service, "stu-007")
    await g.enroll(d.Segment.PRIMARY, 3, d.DuplicateOutcome.POSSIBLE)
    await g.review(approve=False, days=5)
    h = Student(service, "stu-008")
    await h.enroll(d.Segment.PRIMARY, 3, d.DuplicateOutcome.POSSIBLE)
    await h.review(days=5)
    i = Student(service, "stu-009")
    tr = OperatorClaims(sub="transfer-service", role=Role.COUNTY, code="350602")
    await i.do(d.RecordTransferIn(operator=tr, reason="线下接收", transfer_id="tr-3", receiving_school=SCHOOL,
                                arrival=_arrival("stu-009", "paper_form", 4)), days=10)  # fmt: skip
    await i.do(d.RecordTransferIn(operator=tr, reason="电子档案到达", transfer_id="tr-3", receiving_school=SCHOOL,
                                arrival=_arrival("stu-009", "status_file", 5)), days=30)  # fmt: skip
    return {
        "stu-001": ["enrolled", "suspended", "suspension_extended", "resumed", "abroad", "returned_from_abroad",
                    "transferred_in", "key_information_corrected", "number_changed", "dropped_out", "resumed",
                    "deceased"],
        "stu-002": ["enrolled", "graduated"],
        "stu-003": ["enrolled", "completed"],
        "stu-004": ["enrolled", "left"],
        "stu-005": ["enrolled", "transferred_out"],
        "stu-006": ["enrolled", "deleted"],
        "stu-007": ["recorded_for_review", "refused_as_duplicate"],
        "stu-008": ["recorded_for_review", "enrolled"],
        "stu-009": ["transferred_in", "arrival_reconciled"],
    }  # fmt: skip


def _by_student(messages: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for m in messages:
        found.setdefault(m["payload"]["student_id"], []).append(m["payload"])
    return found


async def test_r52_every_kind_of_change_is_one_message_with_before_after_effective_date_and_gapless_sequence(
    isolation, signing_keys
):
    async with registry(isolation, signing_keys) as service:
        expected = await _live_every_kind_of_change(service)
        total = sum(len(kinds) for kinds in expected.values())
        messages = await published(isolation.servers.kafka, isolation.topic(STUDENT_STATUS.name),
                                   lambda found: len(found) >= total, timeout=60)  # fmt: skip
        snapshots = await published(isolation.servers.kafka, isolation.topic(STUDENT_STATUS_SNAPSHOT.name),
                                    lambda found: {m["payload"]["student_id"] for m in found} >= set(expected))  # fmt: skip
    feed = _by_student(messages)
    assert {s: [p["change"] for p in ps] for s, ps in feed.items()} == expected  # each kind exactly once, in order
    assert len(messages) == total
    for changes in feed.values():
        assert [p["sequence"] for p in changes] == list(range(1, len(changes) + 1))
        for previous, now in pairwise(changes):
            # the state and school before a change are those after the one before it
            assert (
                now["before"]["state"] == previous["state"] and now["before"]["school_code"] == previous["school_code"]
            )
    a = {p["change"]: p for p in feed["stu-001"][:-2]} | {"deceased": feed["stu-001"][-1]}
    assert a["enrolled"]["before"] is None and a["enrolled"]["effective_on"] == "2024-09-01"
    assert a["suspended"]["effective_on"] == "2024-09-13" and a["suspended"]["planned_end"] == "2025-09-13"
    assert a["suspension_extended"]["planned_end"] > a["suspended"]["planned_end"]
    assert a["transferred_in"]["before"]["school_code"] == SCHOOL and a["transferred_in"]["school_code"] == OTHER_SCHOOL
    assert a["transferred_in"]["effective_on"] == (T0 + timedelta(days=510)).date().isoformat()
    assert a["key_information_corrected"]["corrected"] == ["name"]
    assert a["number_changed"]["before"]["status_number_masked"].startswith("L")
    assert a["number_changed"]["status_number_masked"].startswith("G")
    assert a["deceased"]["effective_on"] == (T0 + timedelta(days=578)).date().isoformat()
    assert a["deceased"]["before"]["state"] == "enrolled" and a["deceased"]["state"] == "deceased"
    deleted = feed["stu-006"][-1]
    assert deleted["approval"] == {"reference": deleted["approval"]["reference"], "approved_by": "ministry",
                                   "approved_on": (T0 + timedelta(days=40)).date().isoformat()}  # fmt: skip
    assert feed["stu-004"][-1]["effective_on"] == "2024-09-10"  # the leaving certificate's last day of study
    assert feed["stu-005"][-1]["state"] == "transferred"
    assert feed["stu-009"][-1]["grade"] == 5  # the electronic file prevails over the paper form (R23)
    assert all(m["recorded_at"] for ms in feed.values() for m in ms)
    # R52: never a raw ID number or a name on the public topics
    raw = json.dumps(messages + snapshots, ensure_ascii=False)
    assert "林" not in raw and not any(_person(n).id_number in raw for n in range(1, 10))
    latest = {m["payload"]["student_id"]: m["payload"] for m in snapshots}
    for student, changes in feed.items():
        assert (latest[student]["sequence"], latest[student]["last_change"]) == (len(changes), changes[-1]["change"])
        assert latest[student]["state"] == changes[-1]["state"]
    assert latest["stu-006"]["closed"] and latest["stu-007"]["closed"] and not latest["stu-008"]["closed"]


async def test_r52_sequence_numbers_have_no_gaps_across_a_registry_restart(isolation, signing_keys):
    async with registry(isolation, signing_keys) as service:
        a = Student(service, "stu-011")
        await a.enroll(d.Segment.PRIMARY, 3)
        await a.ask(d.GoAbroad(), E.ABROAD_APPLICATION, E.PASSPORT, days=10)
        await published(isolation.servers.kafka, isolation.topic(STUDENT_STATUS.name), lambda f: len(f) >= 2)
    async with registry(isolation, signing_keys) as service:  # a new process: nothing kept in memory
        a.service = service
        await a.ask(d.ReturnFromAbroad(), days=20)
        await a.do(d.RecordTransferIn(operator=OperatorClaims(sub="t", role=Role.COUNTY, code="350603"), reason="转学",
                                    transfer_id="tr-9", receiving_school=OTHER_SCHOOL), days=30)  # fmt: skip
        await a.do(
            d.RecordTransferIn(
                operator=OperatorClaims(sub="t", role=Role.COUNTY, code="350603"),
                reason="转学",
                transfer_id="tr-9",
                receiving_school=OTHER_SCHOOL,
            ),
            days=30,
        )  # a redelivery
        messages = await published(isolation.servers.kafka, isolation.topic(STUDENT_STATUS.name), lambda f: len(f) >= 4)
    changes = [m["payload"] for m in messages]
    assert [(p["sequence"], p["change"]) for p in changes] == [
        (1, "enrolled"), (2, "abroad"), (3, "returned_from_abroad"), (4, "transferred_in")
    ]  # fmt: skip

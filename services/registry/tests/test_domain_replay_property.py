"""Property: any sequence of commands leaves a state that replaying its events rebuilds (R12); errors record nothing."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st
from province_rules import decide, handle

from xueji_contracts.auth import OperatorClaims, Role
from xueji_contracts.identity import check_character
from xueji_registry.domain import (
    AbsenceDropout,
    AssignSupplementaryNumber,
    BasicInfoPatch,
    ChangeBasicInfo,
    ChangeDetails,
    ChangeKeyInfo,
    CheckOutcome,
    Command,
    Complete,
    Death,
    DeleteRecord,
    DropOut,
    DropoutCause,
    DuplicateCheck,
    DuplicateOutcome,
    EnrollStudent,
    EvidenceKind,
    EvidenceRef,
    ExtendSuspension,
    GoAbroad,
    Graduate,
    IssueFormalNumber,
    Leave,
    RecordNationalChecks,
    RecordTransferIn,
    RecordTransferOut,
    RegistryError,
    RegistryEvent,
    RequestChange,
    Resume,
    ResumeAfterDropout,
    ReturnFromAbroad,
    ReviewChange,
    SchoolNumbering,
    SchoolTerm,
    Segment,
    StudentIdentity,
    StudentStatus,
    Suspend,
    SuspensionCause,
    Term,
    from_documents,
    replay,
    to_documents,
)

CST = ZoneInfo("Asia/Shanghai")
T0 = datetime(2024, 9, 10, 9, 0, tzinfo=CST)
SCHOOL = "3506020001"
SCHOOL_CLERK = OperatorClaims(sub="clerk-1", role=Role.SCHOOL, code=SCHOOL)
COUNTY_CLERK = OperatorClaims(sub="county-1", role=Role.COUNTY, code="350602")
PROVINCE_CLERK = OperatorClaims(sub="province-1", role=Role.PROVINCE, code="350000")
MINISTRY_CLERK = OperatorClaims(sub="moe-1", role=Role.MINISTRY, code="000000")
ALL_EVIDENCE = tuple(
    EvidenceRef(kind=k, uri=f"s3://evidence/{k.value}", sha256=hashlib.sha256(k.encode()).hexdigest())
    for k in EvidenceKind
)
FIRST17 = "350602" + "20080315" + "123"
OTHER17 = "350602" + "20080316" + "125"
TERMS = [SchoolTerm(school_year=2024, term=Term.FIRST), SchoolTerm(school_year=2025, term=Term.SECOND)]
DETAILS: list[ChangeDetails] = [
    Suspend(cause=SuspensionCause.ILLNESS, term=TERMS[0]),
    Suspend(cause=SuspensionCause.OTHER, term=TERMS[1]),
    ExtendSuspension(),
    Resume(grade=11, term=TERMS[0]),
    Resume(grade=12, term=TERMS[1]),
    GoAbroad(),
    ReturnFromAbroad(),
    DropOut(cause=DropoutCause.EMIGRATION),
    DropOut(cause=DropoutCause.INCURABLE_ILLNESS),
    AbsenceDropout(absent_since=date(2024, 8, 1), contact_attempts=3),
    ResumeAfterDropout(),
    Death(date_of_death=date(2024, 9, 1)),
    Graduate(graduation_year=2025, numbering=SchoolNumbering(county="06", school="12"), certificate_sequence=3),
    Complete(),
    Leave(study_from=date(2023, 9, 1), study_to=date(2024, 9, 1)),
    ChangeBasicInfo(patch=BasicInfoPatch(ethnicity="畲族")),
    ChangeKeyInfo(name="陈一鸣", id_number=OTHER17 + check_character(OTHER17)),
    DeleteRecord(),
]


def command_pool() -> list[Command]:
    pool: list[Command] = [
        RequestChange(operator=SCHOOL_CLERK, reason="申请", evidence=ALL_EVIDENCE, details=d) for d in DETAILS
    ]
    pool.append(
        RequestChange(operator=PROVINCE_CLERK, reason="报部删除", evidence=ALL_EVIDENCE, details=DeleteRecord())
    )
    for change in range(2, 12):
        for operator in (COUNTY_CLERK, MINISTRY_CLERK):
            pool.append(ReviewChange(operator=operator, reason="审核", change_id=f"chg-{change}", approve=True))
        pool.append(ReviewChange(operator=COUNTY_CLERK, reason="退回", change_id=f"chg-{change}", approve=False))
        for outcome in (CheckOutcome.PASSED, CheckOutcome.FAILED):
            pool.append(
                RecordNationalChecks(
                    operator=COUNTY_CLERK,
                    reason="查重",
                    change_id=f"chg-{change}",
                    duplicate_check=outcome,
                    identity_comparison=CheckOutcome.PASSED,
                )
            )
    pool += [
        IssueFormalNumber(
            operator=PROVINCE_CLERK,
            reason="批次",
            duplicate_check=CheckOutcome.PASSED,
            identity_comparison=CheckOutcome.PASSED,
        ),
        AssignSupplementaryNumber(
            operator=SCHOOL_CLERK,
            reason="补充号",
            school_year=2024,
            numbering=SchoolNumbering(county="06", school="12"),
            sequence=9,
        ),
        RecordTransferOut(operator=SCHOOL_CLERK, reason="转出省", transfer_id="tr-1", receiving_school="3607020001"),
        RecordTransferIn(operator=SCHOOL_CLERK, reason="转入", transfer_id="tr-2", receiving_school=SCHOOL),
        RecordTransferIn(operator=COUNTY_CLERK, reason="转入", transfer_id="tr-3", receiving_school="3506020002"),
    ]
    return pool


POOL = command_pool()
ENROLL = EnrollStudent(
    operator=SCHOOL_CLERK,
    reason="新生入学",
    student_id="stu-1",
    school_code=SCHOOL,
    segment=Segment.SENIOR,
    grade=11,
    identity=StudentIdentity(
        name="陈一鸣", id_number=FIRST17 + check_character(FIRST17), gender="male", birth_date=date(2008, 3, 15)
    ),
    admitted_on=date(2023, 9, 1),
    number_counter=1,
    duplicate_check=DuplicateCheck(outcome=DuplicateOutcome.CLEAR),
)


@settings(max_examples=150, deadline=None)
@given(steps=st.lists(st.tuples(st.sampled_from(POOL), st.integers(0, 60)), max_size=25))
def test_r12_replaying_the_events_rebuilds_the_state_and_refused_commands_record_nothing(
    steps: list[tuple[Command, int]],
) -> None:
    state, events = handle(ENROLL, None, T0)
    history: list[RegistryEvent] = list(events)
    when = T0
    for command, days in steps:
        when += timedelta(days=days)
        assert state is not None
        before: StudentStatus = state
        try:
            state, events = handle(command, state, when)
        except RegistryError:
            assert state == before
            continue
        history += events
        assert state is not None and state.version == len(history)
    stored = json.loads(json.dumps(to_documents(history)))
    assert replay(from_documents(stored)) == state
    for event in history:
        assert event.by.operator_id and event.reason


def test_r12_decide_alone_never_changes_the_state_it_is_given() -> None:
    state, _ = handle(ENROLL, None, T0)
    assert state is not None
    snapshot = state.model_dump()
    decide(POOL[0], state, T0)
    assert state.model_dump() == snapshot

"""Property: any sequence of commands leaves a state that replaying its events rebuilds (R12); errors record nothing."""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from province_rules import decide, handle
from record_fixtures import COUNTY_CLERK, MINISTRY_CLERK, PROVINCE_CLERK, SCHOOL, SCHOOL_CLERK, T0, enrollment

from xueji_contracts.identity import check_character
from xueji_registry import domain as d

ALL_EVIDENCE = tuple(
    d.EvidenceRef(kind=k, uri=f"s3://evidence/{k.value}", sha256=hashlib.sha256(k.encode()).hexdigest())
    for k in d.EvidenceKind
)
FIRST17 = "350602" + "20080315" + "123"
OTHER17 = "350602" + "20080316" + "125"
TERMS = [d.SchoolTerm(school_year=2024, term=d.Term.FIRST), d.SchoolTerm(school_year=2025, term=d.Term.SECOND)]
DRAWN = 3
DETAILS: list[d.ChangeDetails] = [
    d.Suspend(cause=d.SuspensionCause.ILLNESS, term=TERMS[0]),
    d.Suspend(cause=d.SuspensionCause.OTHER, term=TERMS[1]),
    d.ExtendSuspension(),
    d.Resume(grade=11, term=TERMS[0]),
    d.Resume(grade=12, term=TERMS[1]),
    d.GoAbroad(),
    d.ReturnFromAbroad(),
    d.DropOut(cause=d.DropoutCause.EMIGRATION),
    d.DropOut(cause=d.DropoutCause.INCURABLE_ILLNESS),
    d.AbsenceDropout(absent_since=date(2024, 8, 1), contact_attempts=3),
    d.ResumeAfterDropout(),
    d.Death(date_of_death=date(2024, 9, 1)),
    d.Graduate(graduation_year=2025),  # the school's digits read from the record's school
    d.Complete(),
    d.Leave(study_from=date(2023, 9, 1), study_to=date(2024, 9, 1)),
    d.ChangeBasicInfo(patch=d.BasicInfoPatch(ethnicity="畲族")),
    d.ChangeKeyInfo(name="陈一鸣", id_number=OTHER17 + check_character(OTHER17)),
    d.DeleteRecord(),
]


def command_pool() -> list[d.Command]:
    # R08: a command that makes a graduation take effect carries the sequence the service layer drew (DRAWN).
    pool: list[d.Command] = [
        d.RequestChange(operator=SCHOOL_CLERK, reason="申请", evidence=ALL_EVIDENCE, details=details,
                        certificate_sequence=DRAWN if isinstance(details, d.Graduate) else None)
        for details in DETAILS
    ]  # fmt: skip
    pool.append(
        d.RequestChange(operator=PROVINCE_CLERK, reason="报部删除", evidence=ALL_EVIDENCE, details=d.DeleteRecord())
    )
    for change in range(2, 12):
        for operator in (COUNTY_CLERK, MINISTRY_CLERK):
            pool.append(d.ReviewChange(operator=operator, reason="审核", change_id=f"chg-{change}", approve=True,
                                       certificate_sequence=DRAWN))  # fmt: skip
        pool.append(d.ReviewChange(operator=COUNTY_CLERK, reason="退回", change_id=f"chg-{change}", approve=False))
        for outcome in (d.CheckOutcome.PASSED, d.CheckOutcome.FAILED):
            pool.append(
                d.RecordNationalChecks(
                    operator=COUNTY_CLERK,
                    reason="查重",
                    change_id=f"chg-{change}",
                    duplicate_check=outcome,
                    identity_comparison=d.CheckOutcome.PASSED,
                )
            )
    pool += [
        d.IssueFormalNumber(
            operator=PROVINCE_CLERK,
            reason="批次",
            duplicate_check=d.CheckOutcome.PASSED,
            identity_comparison=d.CheckOutcome.PASSED,
        ),
        d.AssignSupplementaryNumber(
            operator=SCHOOL_CLERK,
            reason="补充号",
            school_year=2024,
            numbering=d.SchoolNumbering(county="06", school="12"),
            sequence=9,
        ),
        d.RecordTransferOut(operator=SCHOOL_CLERK, reason="转出省", transfer_id="tr-1", receiving_school="3607020001"),
        d.RecordTransferIn(operator=SCHOOL_CLERK, reason="转入", transfer_id="tr-2", receiving_school=SCHOOL),
        d.RecordTransferIn(operator=COUNTY_CLERK, reason="转入", transfer_id="tr-3", receiving_school="3506020002"),
    ]
    return pool


POOL = command_pool()
ENROLL = enrollment(
    d.Segment.SENIOR,
    11,
    identity=d.StudentIdentity(
        name="陈一鸣", id_number=FIRST17 + check_character(FIRST17), gender="male", birth_date=date(2008, 3, 15)
    ),
    admitted_on=date(2023, 9, 1),
)


@settings(max_examples=150, deadline=None)
@given(steps=st.lists(st.tuples(st.sampled_from(POOL), st.integers(0, 60)), max_size=25))
def test_r12_replaying_the_events_rebuilds_the_state_and_refused_commands_record_nothing(
    steps: list[tuple[d.Command, int]],
) -> None:
    state, events = handle(ENROLL, None, T0)
    history: list[d.RegistryEvent] = list(events)
    when = T0
    for command, days in steps:
        when += timedelta(days=days)
        assert state is not None
        before: d.StudentStatus = state
        try:
            state, events = handle(command, state, when)
        except d.RegistryError:
            assert state == before
            continue
        history += events
        assert state is not None and state.version == len(history)
    stored = json.loads(json.dumps(d.to_documents(history)))
    assert d.replay(d.from_documents(stored)) == state
    for event in history:
        assert event.by.operator_id and event.reason


def test_r12_decide_alone_never_changes_the_state_it_is_given() -> None:
    state, _ = handle(ENROLL, None, T0)
    assert state is not None
    snapshot = state.model_dump()
    decide(POOL[0], state, T0)
    assert state.model_dump() == snapshot

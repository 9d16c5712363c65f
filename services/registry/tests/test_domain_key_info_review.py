"""R14 on a key-information change (R10) and a G number (R04): a suspected duplicate found by the change's duplicate
check is never a refusal by itself. The change keeps waiting for the county's review of the case; "same person"
fails the duplicate check, "different person" passes it, and a change the national tier must still check (a G
student's, R10) is first asked again there, naming the cleared case."""

from __future__ import annotations

import pytest
from record_fixtures import COUNTY_CLERK
from test_domain_history import NEW_ID, Record

from xueji_contracts.messages.dedupe import CheckPurpose, CheckRequested, RegisterOutcome, VerdictGiven, VerdictKind
from xueji_registry import domain as d
from xueji_registry.domain.state import ChangePhase
from xueji_registry.national_checks import answer_for, check_requests, correlation_of

E = d.EvidenceKind
CASE = "rc_case1"


def _verdict(
    kind: VerdictKind,
    student_id: str,
    case_id: str | None = None,
    tier: str = "province",
    register: RegisterOutcome | None = None,
) -> VerdictGiven:
    return VerdictGiven(
        verdict=kind, purpose=CheckPurpose.KEY_INFO_CHANGE, student_id=student_id, score=0.7,
        existing_student_id="stu-7", reason_zh="疑似重复", reason_en="possible duplicate", review_case_id=case_id,
        tier=tier, population_register=register,
    )  # fmt: skip


def _waiting(formal: bool = True) -> tuple[Record, str]:
    """A key-information change the county approved, now waiting for its checks."""
    record = Record(formal=formal)
    record.ask(d.ChangeKeyInfo(name="林晓雨", id_number=NEW_ID if formal else None), E.HOUSEHOLD_REGISTER)
    record.review()
    return record, record.now.pending[-1].change_id


def _answer(record: Record, change_id: str, verdict: VerdictGiven, case_id: str | None = None) -> None:
    student_id = record.now.student_id
    asked = correlation_of(student_id, change_id) if case_id is None else correlation_of(student_id, change_id, case_id)
    command = answer_for(record.now, asked, verdict)
    assert command is not None
    record.do(command)


def _referred(formal: bool = True) -> tuple[Record, str]:
    record, change_id = _waiting(formal)
    before = record.now
    _answer(record, change_id, _verdict(VerdictKind.POSSIBLE_DUPLICATE, record.now.student_id, CASE))
    assert check_requests("35", before, record.now) == []  # the county is asked, not dedupe again
    return record, change_id


def _decide(record: Record, change_id: str, same_person: bool, case_id: str = CASE) -> None:
    record.do(
        d.DecideDuplicateReview(
            operator=COUNTY_CLERK, reason="county review", change_id=change_id, review_case_id=case_id,
            same_person=same_person,
        )
    )  # fmt: skip


@pytest.mark.parametrize("formal", [True, False])
def test_r14_a_suspected_duplicate_leaves_the_key_info_change_waiting_for_the_county(formal: bool) -> None:
    record, change_id = _referred(formal)
    assert record.events[-1].type == "duplicate_check_referred"
    [pending] = record.now.pending
    assert (pending.change_id, pending.phase) == (change_id, ChangePhase.AWAITING_NATIONAL_CHECKS)
    assert pending.review is not None and pending.review.case_id == CASE
    assert record.now.identity.name == "林小雨"  # not applied either


def test_r14_a_possible_duplicate_without_a_review_case_is_still_a_failed_duplicate_check() -> None:
    """No case was opened (nothing for the county to decide): the answer is recorded as before."""
    record, change_id = _waiting()
    _answer(record, change_id, _verdict(VerdictKind.POSSIBLE_DUPLICATE, record.now.student_id))
    assert record.events[-1].type == "change_rejected"


def test_r14_the_county_finding_the_same_person_rejects_the_change() -> None:
    record, change_id = _referred()
    _decide(record, change_id, same_person=True)
    checks, rejected = record.events[-2:]
    assert (checks.type, checks.duplicate_check) == ("national_checks_recorded", d.CheckOutcome.FAILED)
    assert rejected.type == "change_rejected" and "national duplicate check" in rejected.reason
    assert record.now.pending == () and record.now.identity.name == "林小雨"


def test_r14_an_l_students_change_cleared_by_the_county_takes_effect() -> None:
    record, change_id = _referred(formal=False)
    _decide(record, change_id, same_person=False)
    checks = next(e for e in reversed(record.events) if e.type == "national_checks_recorded")
    assert (checks.duplicate_check, checks.identity_comparison) == (d.CheckOutcome.PASSED, d.CheckOutcome.NOT_RUN)
    assert record.now.identity.name == "林晓雨" and record.now.pending == ()


def test_r10_r14_a_g_students_change_cleared_by_the_county_is_asked_again_at_the_national_tier() -> None:
    record, change_id = _referred()
    before = record.now
    _decide(record, change_id, same_person=False)
    assert record.events[-1].type == "duplicate_review_cleared"
    assert record.now.identity.name == "林小雨"  # R10: not before the national tier and the register comparison
    [asked] = check_requests("35", before, record.now)
    again = correlation_of(record.now.student_id, change_id, CASE)
    assert (asked.key, asked.message.correlation_id) == (str(again), again)
    question = asked.message.payload
    assert isinstance(question, CheckRequested)
    assert (question.cleared_review_case_id, question.purpose) == (CASE, CheckPurpose.KEY_INFO_CHANGE)
    assert check_requests("35", record.now, record.now) == []  # asked once
    # The first check's answer, delivered again, no longer finds the change; the national tier's answer does.
    first = _verdict(VerdictKind.UNIQUE, record.now.student_id, register=RegisterOutcome.MATCH, tier="national")
    assert answer_for(record.now, correlation_of(record.now.student_id, change_id), first) is None
    _answer(record, change_id, first, CASE)
    assert (record.now.identity.name, record.now.identity.id_number) == ("林晓雨", NEW_ID)


def test_r10_r14_a_suspected_duplicate_the_national_tier_found_needs_no_second_national_check() -> None:
    """The national tier's own possible duplicate goes to the county too (the province opens the case); cleared, the
    register comparison of that same answer decides."""
    record, change_id = _referred()
    _decide(record, change_id, same_person=False)
    national = _verdict(VerdictKind.POSSIBLE_DUPLICATE, record.now.student_id, "rc_case2", "national",
                        RegisterOutcome.MATCH)  # fmt: skip
    before = record.now
    _answer(record, change_id, national, CASE)
    assert record.events[-1].type == "duplicate_check_referred" and record.now.pending[0].review.tier == "national"
    assert check_requests("35", before, record.now) == []  # nothing asked again while the county reviews it
    _decide(record, change_id, same_person=False, case_id="rc_case2")
    assert (record.now.identity.name, record.now.pending) == ("林晓雨", ())


def test_r14_while_the_county_reviews_no_answer_decides_the_change() -> None:
    """A redelivered verdict finds the change waiting for the county, not for an answer."""
    record, change_id = _referred()
    again = _verdict(VerdictKind.POSSIBLE_DUPLICATE, record.now.student_id, CASE)
    assert answer_for(record.now, correlation_of(record.now.student_id, change_id), again) is None


def test_r14_a_decision_on_another_case_or_a_change_no_longer_waiting_is_refused() -> None:
    record, change_id = _referred()
    with pytest.raises(d.Refused):
        _decide(record, change_id, same_person=True, case_id="rc_other")
    _decide(record, change_id, same_person=True)
    with pytest.raises(d.UnknownRecord):
        _decide(record, change_id, same_person=True)

"""Creating a status record and its numbers: one person one record (R01, R14), L/J/G numbers (R02-R06)."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from typing import Any

import pytest
from province_rules import decide
from pydantic import ValidationError
from record_fixtures import COUNTY_CLERK, PROVINCE_CLERK, SCHOOL, SCHOOL_CLERK, T0, Stream, resident_id

from xueji_contracts.auth import OperatorClaims, Role
from xueji_contracts.messages.status import StatusState
from xueji_registry import domain as d
from xueji_registry.domain.record_changes import ConfirmCreation
from xueji_registry.domain.record_events import StatusRecorded


def evidence(kind: d.EvidenceKind) -> d.EvidenceRef:
    return d.EvidenceRef(
        kind=kind, uri=f"s3://evidence/{kind.value}.pdf", sha256=hashlib.sha256(kind.encode()).hexdigest()
    )


def identity(id_number: str | None = None, **fields: Any) -> d.StudentIdentity:
    values: dict[str, Any] = {
        "name": "林小雨",
        "id_number": id_number,
        "gender": "female",
        "birth_date": date(2015, 3, 15),
    }
    return d.StudentIdentity.model_validate(values | fields)


def enrollment(**fields: Any) -> d.EnrollStudent:
    values: dict[str, Any] = {
        "operator": SCHOOL_CLERK,
        "reason": "新生入学",
        "student_id": "stu-1",
        "school_code": SCHOOL,
        "segment": d.Segment.PRIMARY,
        "grade": 1,
        "identity": identity(resident_id()),
        "admitted_on": date(2024, 9, 1),
        "number_counter": 1,
        "duplicate_check": d.DuplicateCheck(outcome=d.DuplicateOutcome.CLEAR),
    }
    return d.EnrollStudent.model_validate(values | fields)


class Record(Stream):
    """A student's stream, called with each command (`record(command, days=...)`)."""

    def __init__(self, command: d.EnrollStudent | None = None) -> None:
        super().__init__()
        self(command or enrollment())

    __call__ = Stream.do


def test_r03_enrollment_with_an_id_number_records_an_l_number() -> None:
    record = Record()
    assert record.now.state is StatusState.ENROLLED
    assert record.now.status_number == d.temporary_number("350602", 1)
    assert record.now.version == 1


def test_r03_enrollment_without_an_obtainable_id_records_a_j_number() -> None:
    record = Record(enrollment(identity=identity(None), number_counter=5))
    assert record.now.status_number.startswith("J350602")
    assert record.now.status_number[1:] == d.temporary_number("350602", 5)[1:]


def test_r02_status_file_is_due_one_month_after_admission() -> None:
    record = Record(enrollment(admitted_on=date(2024, 8, 31)))
    assert record.now.status_file_due == date(2024, 9, 30)


def test_r01_exact_duplicate_is_refused_with_the_existing_record() -> None:
    duplicate = d.DuplicateCheck(outcome=d.DuplicateOutcome.DUPLICATE, existing_student_id="stu-0")
    with pytest.raises(d.DuplicateStatus) as refused:
        decide(enrollment(duplicate_check=duplicate), None, T0)
    assert refused.value.existing == "stu-0"
    assert refused.value.rule == "R01"


def test_r01_a_second_status_for_the_same_record_is_refused() -> None:
    record = Record()
    with pytest.raises(d.DuplicateStatus) as refused:
        decide(enrollment(), record.now, T0)
    assert refused.value.existing == "stu-1"
    assert "G350602" not in str(refused.value) and resident_id() not in str(refused.value)


def test_r14_possible_duplicate_waits_for_the_county_and_is_then_confirmed() -> None:
    possible = d.DuplicateCheck(outcome=d.DuplicateOutcome.POSSIBLE, existing_student_id="stu-0")
    record = Record(enrollment(duplicate_check=possible))
    assert record.now.state is StatusState.PENDING_REVIEW
    request = record.events[-1]
    assert isinstance(request, d.ChangeRequested)
    assert request.verifier is Role.COUNTY
    record(d.ReviewChange(operator=COUNTY_CLERK, reason="不同一人", change_id=request.change_id, approve=True))
    assert record.now.state is StatusState.ENROLLED
    assert record.now.pending == ()


def test_r14_possible_duplicate_confirmed_as_duplicate_closes_the_record() -> None:
    possible = d.DuplicateCheck(outcome=d.DuplicateOutcome.POSSIBLE, existing_student_id="stu-0")
    record = Record(enrollment(duplicate_check=possible))
    record(d.ReviewChange(operator=COUNTY_CLERK, reason="same person as stu-0", change_id="chg-2", approve=False))
    assert record.now.closure is not None
    with pytest.raises(d.RecordClosed):
        decide(
            d.IssueFormalNumber(
                operator=COUNTY_CLERK,
                reason="batch",
                duplicate_check=d.CheckOutcome.PASSED,
                identity_comparison=d.CheckOutcome.PASSED,
            ),
            record.now,
            T0,
        )


def test_r06_invalid_id_number_names_the_field_and_nothing_is_built() -> None:
    bad = resident_id()[:-1] + ("1" if resident_id()[-1] != "1" else "2")
    with pytest.raises(ValidationError) as invalid:
        identity(bad)
    assert invalid.value.errors()[0]["loc"] == ("id_number",)
    assert "check character" in str(invalid.value)


def test_r14_a_birth_date_contradicting_the_id_number_is_enrolled_as_the_request_was_told() -> None:
    """The request was answered with a warning naming the field (enrollment_request.contradictions) and went on to
    dedupe, which held the child: refusing the record now left the clerk's corrected request refused as a duplicate
    of a record that never was."""
    events = decide(enrollment(identity=identity(resident_id(), birth_date=date(2015, 3, 16))), None, T0)
    (recorded,) = [e for e in events if isinstance(e, StatusRecorded)]
    assert recorded.identity.birth_date == date(2015, 3, 16)


def issue(
    duplicate: d.CheckOutcome, comparison: d.CheckOutcome, operator: OperatorClaims = PROVINCE_CLERK
) -> d.IssueFormalNumber:
    return d.IssueFormalNumber(
        operator=operator, reason="2025 春季 G 号批次", duplicate_check=duplicate, identity_comparison=comparison
    )


def test_r03_g_number_is_issued_after_both_national_checks_and_keeps_the_l_number() -> None:
    record = Record()
    temporary = record.now.status_number
    record(issue(d.CheckOutcome.PASSED, d.CheckOutcome.PASSED), days=150)
    assert record.now.status_number == "G" + resident_id()
    assert record.now.previous_numbers == (temporary,)


@pytest.mark.parametrize(
    ("duplicate", "comparison", "named"),
    [
        (d.CheckOutcome.FAILED, d.CheckOutcome.PASSED, "national duplicate check"),
        (d.CheckOutcome.PASSED, d.CheckOutcome.FAILED, "population-register comparison"),
        (d.CheckOutcome.NOT_RUN, d.CheckOutcome.PASSED, "national duplicate check"),
        (d.CheckOutcome.PASSED, d.CheckOutcome.NOT_RUN, "population-register comparison"),
    ],
)
def test_r03_g_number_is_refused_unless_both_checks_passed(
    duplicate: d.CheckOutcome, comparison: d.CheckOutcome, named: str
) -> None:
    record = Record()
    with pytest.raises(d.Refused) as refused:
        decide(issue(duplicate, comparison), record.now, T0)
    assert named in refused.value.reason


def test_r03_a_school_cannot_mint_a_g_number() -> None:
    with pytest.raises(d.OutsideJurisdiction):
        decide(issue(d.CheckOutcome.PASSED, d.CheckOutcome.PASSED, SCHOOL_CLERK), Record().now, T0)


def test_r03_g_number_waits_for_a_possible_duplicate_to_be_cleared() -> None:
    possible = d.DuplicateCheck(outcome=d.DuplicateOutcome.POSSIBLE, existing_student_id="stu-0")
    with pytest.raises(d.IllegalTransition) as illegal:
        decide(
            issue(d.CheckOutcome.PASSED, d.CheckOutcome.PASSED), Record(enrollment(duplicate_check=possible)).now, T0
        )
    assert "pending_review" in str(illegal.value)


def formal_number_change(id_number: str) -> d.RequestChange:
    return d.RequestChange(
        operator=SCHOOL_CLERK,
        reason="已办理户口，申请正式学籍号",
        evidence=(evidence(d.EvidenceKind.HOUSEHOLD_REGISTER),),
        details=d.ChangeToFormalNumber(id_number=id_number),
    )


def test_r04_j_student_with_a_new_id_number_gets_g_and_keeps_the_j_number() -> None:
    record = Record(enrollment(identity=identity(None)))
    j_number = record.now.status_number
    record(formal_number_change(resident_id()), days=1)
    record(d.ReviewChange(operator=COUNTY_CLERK, reason="户口簿核对无误", change_id="chg-2", approve=True), days=2)
    assert record.now.status_number == j_number  # not yet: the national checks come first
    record(
        d.RecordNationalChecks(
            operator=COUNTY_CLERK,
            reason="全国查重与身份比对结果",
            change_id="chg-2",
            duplicate_check=d.CheckOutcome.PASSED,
            identity_comparison=d.CheckOutcome.PASSED,
        ),
        days=5,
    )
    assert record.now.status_number == "G" + resident_id()
    assert record.now.previous_numbers == (j_number,)
    assert record.now.identity.id_number == resident_id()
    assert [e.type for e in record.events].count("status_number_changed") == 1


def test_r04_an_l_student_does_not_change_number_by_application() -> None:
    with pytest.raises(d.Refused) as refused:
        decide(formal_number_change(resident_id()), Record().now, T0)
    assert refused.value.rule == "R04"


def test_r03_the_g_batch_skips_g_and_j_numbers() -> None:
    record = Record()
    record(issue(d.CheckOutcome.PASSED, d.CheckOutcome.PASSED))
    with pytest.raises(d.Refused, match="already has a G number"):
        decide(issue(d.CheckOutcome.PASSED, d.CheckOutcome.PASSED), record.now, T0)
    with pytest.raises(d.Refused) as refused:
        decide(issue(d.CheckOutcome.PASSED, d.CheckOutcome.PASSED), Record(enrollment(identity=identity(None))).now, T0)
    assert refused.value.rule == "R04"


def test_r14_a_school_cannot_confirm_its_own_possible_duplicate() -> None:
    possible = d.DuplicateCheck(outcome=d.DuplicateOutcome.POSSIBLE, existing_student_id="stu-0")
    state = Record(enrollment(duplicate_check=possible)).now
    with pytest.raises(d.Refused):
        decide(d.RequestChange(operator=SCHOOL_CLERK, reason="确认", details=ConfirmCreation()), state, T0)


def test_r12_time_is_an_explicit_timezone_aware_argument() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        decide(enrollment(), None, datetime(2024, 9, 10, 9, 0))


def test_r14_guardians_and_household_register_feed_the_dedupe_index_and_a_change_refiles_it() -> None:
    from xueji_contracts.messages.dedupe import IdentityChanged, IdentityRecorded
    from xueji_registry.domain import BasicInfo
    from xueji_registry.feeds.identity import identity_change

    family = BasicInfo(guardian_name="陈建国，林美华", household_register="350602")
    record = Record(enrollment(basic=family))
    created = identity_change(None, record.now)
    assert isinstance(created, IdentityRecorded)
    assert (created.guardians, created.household_register) == (("陈建国", "林美华"), "350602")
    moved = record.now.model_copy(
        update={"basic": family.model_copy(update={"household_register": "350603"}), "version": record.now.version + 1}
    )
    changed = identity_change(record.now, moved)
    assert isinstance(changed, IdentityChanged) and changed.household_register == "350603"
    same = record.now.model_copy(update={"version": record.now.version + 1})
    assert identity_change(record.now, same) is None


def test_r14_guardian_names_are_split_deduplicated_and_capped_for_the_identity_contract() -> None:
    from xueji_registry.domain import BasicInfo

    many = BasicInfo(guardians=("甲", "乙", "丙", "丁", "戊", "己"), guardian_name="甲、庚 辛；壬")
    assert many.guardian_names() == ("甲", "乙", "丙", "丁", "戊", "己")
    assert BasicInfo(guardian_name="陈建国 / 林美华").guardian_names() == ("陈建国", "林美华")

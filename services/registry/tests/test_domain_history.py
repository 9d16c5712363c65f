"""Key and basic information changes (R10, R11), permanent history (R12), deletion (R13), R05 and the masked view (R52)."""

from __future__ import annotations

import json
from datetime import date

import pytest
from province_rules import decide
from record_fixtures import (
    COUNTY_CLERK,
    MINISTRY_CLERK,
    PROVINCE_CLERK,
    SCHOOL_CLERK,
    T0,
    Stream,
    enrollment,
    evidence,
    resident_id,
    suspension_request,
)

from xueji_contracts.auth import OperatorClaims, Role
from xueji_contracts.messages.status import StatusState
from xueji_registry import domain as d

E = d.EvidenceKind


class Record(Stream):
    """A student with a G number (enrolled, then the spring batch), ready for information changes."""

    def __init__(self, formal: bool = True) -> None:
        super().__init__()
        self.do(enrollment())
        if not formal:
            return  # still the L number of the enrollment
        self.do(
            d.IssueFormalNumber(
                operator=PROVINCE_CLERK,
                reason="春季 G 号批次",
                duplicate_check=d.CheckOutcome.PASSED,
                identity_comparison=d.CheckOutcome.PASSED,
            )
        )

    def ask(self, details: d.ChangeDetails, *kinds: d.EvidenceKind, by: OperatorClaims = SCHOOL_CLERK) -> None:
        self.do(d.RequestChange(operator=by, reason="监护人申请", evidence=evidence(*kinds), details=details))

    def review(self, approve: bool = True, by: OperatorClaims = COUNTY_CLERK) -> None:
        change_id = self.now.pending[-1].change_id
        self.do(d.ReviewChange(operator=by, reason="县级审核", change_id=change_id, approve=approve))

    def national(self, duplicate: d.CheckOutcome, comparison: d.CheckOutcome) -> None:
        change_id = self.now.pending[-1].change_id
        self.do(
            d.RecordNationalChecks(
                operator=COUNTY_CLERK,
                reason="全国查重与身份比对",
                change_id=change_id,
                duplicate_check=duplicate,
                identity_comparison=comparison,
            )
        )


NEW_ID = resident_id(born="20150316", sequence="125")


# R10 key information


def test_r10_key_info_change_needs_the_household_register_scan() -> None:
    with pytest.raises(d.Refused) as refused:
        Record().ask(d.ChangeKeyInfo(name="林晓雨"), E.GUARDIAN_REQUEST)
    assert "household_register" in refused.value.reason


def test_r10_key_info_change_applies_only_after_county_review_and_both_national_checks() -> None:
    record = Record()
    record.ask(d.ChangeKeyInfo(name="林晓雨", id_number=NEW_ID), E.HOUSEHOLD_REGISTER)
    record.review()
    assert record.now.identity.name == "林小雨"  # county approval alone changes nothing
    record.national(d.CheckOutcome.PASSED, d.CheckOutcome.PASSED)
    assert (record.now.identity.name, record.now.identity.id_number) == ("林晓雨", NEW_ID)
    assert record.now.identity.birth_date == date(2015, 3, 16)
    assert record.now.previous_names == ("林小雨",)
    assert record.now.previous_id_numbers == (resident_id(),)


@pytest.mark.parametrize(
    ("duplicate", "comparison"),
    [(d.CheckOutcome.FAILED, d.CheckOutcome.PASSED), (d.CheckOutcome.PASSED, d.CheckOutcome.FAILED)],
)
def test_r10_key_info_change_failing_a_national_check_is_not_applied(
    duplicate: d.CheckOutcome, comparison: d.CheckOutcome
) -> None:
    record = Record()
    record.ask(d.ChangeKeyInfo(name="林晓雨"), E.HOUSEHOLD_REGISTER)
    record.review()
    record.national(duplicate, comparison)
    assert record.now.identity.name == "林小雨"
    assert record.events[-1].type == "change_rejected"
    assert "did not pass" in record.events[-1].reason
    assert record.now.pending == ()


@pytest.mark.parametrize(("formal", "applied"), [(True, False), (False, True)])
def test_r10_r14_only_a_g_student_needs_the_register_comparison(formal: bool, applied: bool) -> None:
    """A G student's identity is compared with the population register (R10); an L student's new name still goes
    through the duplicate check (R14) but has no formal identity to compare: not run is not a failure."""
    record = Record(formal=formal)
    record.ask(d.ChangeKeyInfo(name="林晓雨"), E.HOUSEHOLD_REGISTER)
    record.review()
    record.national(d.CheckOutcome.PASSED, d.CheckOutcome.NOT_RUN)
    assert (record.now.identity.name == "林晓雨") is applied
    assert (record.events[-1].type == "change_rejected") is not applied


def test_r10_national_checks_wait_for_the_county_review() -> None:
    record = Record()
    record.ask(d.ChangeKeyInfo(name="林晓雨"), E.HOUSEHOLD_REGISTER)
    with pytest.raises(d.Refused) as refused:
        record.national(d.CheckOutcome.PASSED, d.CheckOutcome.PASSED)
    assert "awaiting_verification" in refused.value.reason


def test_r05_g_number_may_differ_from_g_plus_id_after_a_recorded_change() -> None:
    record = Record()
    record.ask(d.ChangeKeyInfo(id_number=NEW_ID), E.HOUSEHOLD_REGISTER)
    record.review()
    record.national(d.CheckOutcome.PASSED, d.CheckOutcome.PASSED)
    assert record.now.status_number == "G" + resident_id() != "G" + NEW_ID
    assert d.g_number_discrepancy(record.now) is None


def test_r05_g_number_differing_without_a_recorded_change_is_an_audit_finding() -> None:
    unexplained = Record().now.model_copy(update={"status_number": "G" + NEW_ID})
    finding = d.g_number_discrepancy(unexplained)
    assert finding is not None and finding.startswith("R05")


# R11 basic information


def test_r11_basic_info_change_on_guardian_request_approved_by_the_county() -> None:
    record = Record()
    record.ask(
        d.ChangeBasicInfo(patch=d.BasicInfoPatch(home_address="漳州市芗城区新华西路 1 号")),
        E.GUARDIAN_REQUEST,
        E.RESIDENCE_PERMIT,
    )
    assert record.now.basic.home_address is None
    record.review()
    assert record.now.basic.home_address == "漳州市芗城区新华西路 1 号"
    changed = record.events[-1]
    assert changed.type == "basic_info_changed"
    assert changed.previous.home_address is None


def test_r11_basic_info_change_needs_the_guardian_request_and_a_document() -> None:
    with pytest.raises(d.Refused) as refused:
        Record().ask(d.ChangeBasicInfo(patch=d.BasicInfoPatch(ethnicity="畲族")), E.GUARDIAN_REQUEST)
    assert "household_register or residence_permit or supporting_document" in refused.value.reason


def test_r11_birth_date_cannot_contradict_the_id_number() -> None:
    with pytest.raises(d.Refused) as refused:
        Record().ask(
            d.ChangeBasicInfo(patch=d.BasicInfoPatch(birth_date=date(2015, 4, 1))),
            E.GUARDIAN_REQUEST,
            E.HOUSEHOLD_REGISTER,
        )
    assert refused.value.field == "birth_date"


def test_r11_name_is_not_basic_information() -> None:
    with pytest.raises(ValueError, match="name"):
        d.BasicInfoPatch.model_validate({"name": "林晓雨"})


# R12 permanent history


def full_history() -> Record:
    record = Record()
    record.do(suspension_request(), days=1)
    record.review(approve=False)
    record.ask(d.GoAbroad(), E.ABROAD_APPLICATION, E.PASSPORT)
    record.ask(d.ReturnFromAbroad(), E.PASSPORT)
    record.ask(d.ChangeKeyInfo(name="林晓雨"), E.HOUSEHOLD_REGISTER)
    record.review()
    record.national(d.CheckOutcome.PASSED, d.CheckOutcome.PASSED)
    return record


def test_r12_every_event_records_operator_reason_and_evidence() -> None:
    record = full_history()
    assert len(record.events) == 10
    for event in record.events:
        assert event.by.operator_id and event.by.role and event.by.code
        assert event.at.tzinfo is not None
        assert event.reason.strip()
    by_type = {event.type: event for event in record.events}
    assert by_type["went_abroad"].evidence == evidence(E.ABROAD_APPLICATION, E.PASSPORT)
    assert by_type["change_requested"].by.role is Role.SCHOOL
    assert by_type["change_rejected"].by.role is Role.COUNTY
    # The applied change carries the school's evidence and reason, and the county as who applied it.
    applied = by_type["key_info_changed"]
    assert applied.reason == "监护人申请" and applied.evidence == evidence(E.HOUSEHOLD_REGISTER)


def test_r12_history_is_the_event_stream_and_state_is_rebuilt_from_it() -> None:
    record = full_history()
    stored = json.loads(json.dumps(d.to_documents(record.events)))
    assert d.replay(d.from_documents(stored)) == record.now
    assert record.now.version == len(record.events)


def test_r12_nothing_is_overwritten_old_values_stay_in_history() -> None:
    record = full_history()
    assert record.now.previous_numbers[0].startswith("L")
    assert record.now.previous_names == ("林小雨",)
    changed = next(e for e in record.events if e.type == "key_info_changed")
    assert changed.previous_name == "林小雨"


# R13 deletion


def test_r13_g_number_deletion_needs_province_submission_and_ministry_approval() -> None:
    record = Record()
    with pytest.raises(d.OutsideJurisdiction):
        record.ask(d.DeleteRecord(), E.PROVINCE_SUBMISSION)  # the school cannot ask
    record.ask(d.DeleteRecord(), E.PROVINCE_SUBMISSION, by=PROVINCE_CLERK)
    with pytest.raises(d.OutsideJurisdiction) as refused:
        record.review(by=COUNTY_CLERK)
    assert "ministry" in refused.value.reason
    record.review(by=MINISTRY_CLERK)
    closed = record.events[-1]
    assert closed.type == "record_closed" and closed.by.role is Role.MINISTRY
    assert closed.status_number == "G" + resident_id()
    assert record.now.closure is not None


def test_r13_a_deleted_record_keeps_its_history_and_takes_no_more_changes() -> None:
    record = Record()
    record.ask(d.DeleteRecord(), E.PROVINCE_SUBMISSION, by=PROVINCE_CLERK)
    record.review(by=MINISTRY_CLERK)
    assert d.replay(record.events) == record.now
    with pytest.raises(d.RecordClosed) as closed:
        decide(
            d.RequestChange(
                operator=SCHOOL_CLERK, reason="x", evidence=evidence(E.ABROAD_APPLICATION, E.VISA), details=d.GoAbroad()
            ),
            record.now,
            T0,
        )
    assert closed.value.rule == "R13"


# R52 public view


def test_r52_public_view_has_masked_numbers_and_no_raw_id_or_name() -> None:
    record = Record()
    view = d.public_view(record.now)
    dumped = view.model_dump_json()
    assert resident_id() not in dumped
    assert "林小雨" not in dumped
    assert view.status_number_masked == "G350602********1238"
    assert view.state is StatusState.ENROLLED and view.county_code == "350602"


def test_r10_a_key_info_change_that_changes_nothing_is_refused() -> None:
    with pytest.raises(d.Refused, match="already as requested"):
        Record().ask(d.ChangeKeyInfo(name="林小雨"), E.HOUSEHOLD_REGISTER)

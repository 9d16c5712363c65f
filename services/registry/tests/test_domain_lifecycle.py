"""The status state machine (R40-R46): who initiates, who verifies, evidence, limits; illegal moves name the state."""

from __future__ import annotations

from datetime import date

import pytest
from province_rules import decide
from record_fixtures import COUNTY_CLERK, SCHOOL_CLERK, T0, Stream, enrollment, evidence

from xueji_contracts.auth import Role
from xueji_contracts.messages.status import StatusState
from xueji_registry import domain as d
from xueji_registry.domain.preconditions import CertificateUndrawn
from xueji_registry.domain.status_events import Deceased, DroppedOut

E = d.EvidenceKind
AUTUMN_2024 = d.SchoolTerm(school_year=2024, term=d.Term.FIRST)
SPRING_2025 = d.SchoolTerm(school_year=2024, term=d.Term.SECOND)


class Record(Stream):
    def __init__(self, segment: d.Segment = d.Segment.PRIMARY, grade: int = 3) -> None:
        super().__init__()
        self.do(enrollment(segment, grade))

    def ask(self, details: d.ChangeDetails, *kinds: d.EvidenceKind, days: int = 0) -> list[d.RegistryEvent]:
        request = d.RequestChange(operator=SCHOOL_CLERK, reason="家长申请", evidence=evidence(*kinds), details=details,
                                  certificate_sequence=drawn(details))  # fmt: skip
        return self.do(request, days=days)

    def approve(self, *, days: int = 0, approve: bool = True, reason: str = "审核通过") -> list[d.RegistryEvent]:
        pending = self.now.pending[-1]
        review = d.ReviewChange(operator=COUNTY_CLERK, reason=reason, change_id=pending.change_id, approve=approve,
                                certificate_sequence=drawn(pending.details))  # fmt: skip
        return self.do(review, days=days)

    def change(self, details: d.ChangeDetails, *kinds: d.EvidenceKind, days: int = 0) -> None:
        self.ask(details, *kinds, days=days)
        self.approve(days=days)


ILLNESS = (E.SUSPENSION_APPLICATION, E.MEDICAL_CERTIFICATE)


def suspended(days: int = 0, segment: d.Segment = d.Segment.PRIMARY, grade: int = 3) -> Record:
    record = Record(segment, grade)
    record.change(d.Suspend(cause=d.SuspensionCause.ILLNESS, term=AUTUMN_2024), *ILLNESS, days=days)
    return record


# R40 suspension


def test_r40_school_request_is_pending_until_the_county_verifies() -> None:
    record = Record()
    [requested] = record.ask(d.Suspend(cause=d.SuspensionCause.ILLNESS, term=AUTUMN_2024), *ILLNESS)
    assert isinstance(requested, d.ChangeRequested) and requested.verifier is Role.COUNTY
    assert record.now.state is StatusState.ENROLLED
    record.approve(days=3)
    assert record.now.state is StatusState.SUSPENDED
    assert record.now.suspension is not None
    assert record.now.suspension.since == date(2024, 9, 13)
    assert record.now.suspension.expires_on == date(2025, 9, 13)  # one academic year


def test_r40_illness_needs_a_medical_certificate() -> None:
    with pytest.raises(d.Refused) as refused:
        Record().ask(d.Suspend(cause=d.SuspensionCause.ILLNESS, term=AUTUMN_2024), E.SUSPENSION_APPLICATION)
    assert "medical_certificate" in refused.value.reason
    assert refused.value.field == "evidence"


def test_r40_suspension_needs_the_application_form() -> None:
    with pytest.raises(d.Refused) as refused:
        Record().ask(d.Suspend(cause=d.SuspensionCause.OTHER, term=AUTUMN_2024), E.SUPPORTING_DOCUMENT)
    assert "suspension_application" in refused.value.reason


def test_r40_no_suspension_in_the_graduation_grades_last_semester() -> None:
    record = Record(d.Segment.PRIMARY, grade=6)
    with pytest.raises(d.Refused) as refused:
        record.ask(d.Suspend(cause=d.SuspensionCause.ILLNESS, term=SPRING_2025), *ILLNESS)
    assert refused.value.rule == "R40"
    record.ask(d.Suspend(cause=d.SuspensionCause.ILLNESS, term=AUTUMN_2024), *ILLNESS)  # the first semester is fine


@pytest.mark.parametrize("named", [AUTUMN_2024, d.SchoolTerm(school_year=2025, term=d.Term.FIRST)])
def test_r40_the_graduation_semester_is_the_day_s_whatever_term_the_school_names(named: d.SchoolTerm) -> None:
    """Only the school's county bureau may except R40's graduation semester (RULES "Exceptions": a school can never
    grant one), so naming the autumn just past or the one to come does not take the spring out of the rule."""
    record = Record(d.Segment.PRIMARY, grade=6)  # enrolled 2024-09-10; 200 days later is 2025-03-29, in spring
    with pytest.raises(d.Refused) as refused:
        record.ask(d.Suspend(cause=d.SuspensionCause.ILLNESS, term=named), *ILLNESS, days=200)
    assert (refused.value.rule, refused.value.field) == ("R40", "term")
    with pytest.raises(d.Refused) as truthful:
        record.ask(d.Suspend(cause=d.SuspensionCause.ILLNESS, term=SPRING_2025), *ILLNESS, days=200)
    assert truthful.value.rule == "R40" and "exception" in truthful.value.reason


def test_r40_a_suspension_does_not_start_in_a_semester_already_over() -> None:
    with pytest.raises(d.Refused) as refused:
        Record().ask(d.Suspend(cause=d.SuspensionCause.ILLNESS, term=AUTUMN_2024), *ILLNESS, days=200)
    assert (refused.value.rule, refused.value.field) == ("R40", "term") and "already over" in refused.value.reason
    Record().ask(d.Suspend(cause=d.SuspensionCause.ILLNESS, term=SPRING_2025), *ILLNESS, days=200)


def test_r40_one_extension_of_one_year() -> None:
    record = suspended()
    record.change(d.ExtendSuspension(), E.WRITTEN_APPLICATION, days=360)
    assert record.now.suspension is not None
    assert record.now.suspension.expires_on == date(2026, 9, 10)


def test_r40_second_suspension_extension_is_refused() -> None:
    record = suspended()
    record.change(d.ExtendSuspension(), E.WRITTEN_APPLICATION, days=360)
    before = record.now
    with pytest.raises(d.Refused) as refused:
        record.ask(d.ExtendSuspension(), E.WRITTEN_APPLICATION, days=700)
    assert "already extended once" in refused.value.reason
    assert record.now == before


# R41 resumption


def test_r41_resumption_before_expiry_with_recovery_certificate_returns_to_the_suspension_grade() -> None:
    record = suspended()
    record.change(d.Resume(grade=3, term=SPRING_2025), E.WRITTEN_APPLICATION, E.RECOVERY_CERTIFICATE, days=120)
    assert record.now.state is StatusState.ENROLLED
    assert record.now.grade == 3


def test_r41_resumption_may_return_to_the_original_class_grade() -> None:
    record = suspended()
    next_year = d.SchoolTerm(school_year=2025, term=d.Term.FIRST)
    record.change(d.Resume(grade=4, term=next_year), E.WRITTEN_APPLICATION, E.RECOVERY_CERTIFICATE, days=300)
    assert record.now.grade == 4
    with pytest.raises(d.Refused) as refused:
        suspended().ask(d.Resume(grade=5, term=next_year), E.WRITTEN_APPLICATION, E.RECOVERY_CERTIFICATE)
    assert refused.value.field == "grade"


def test_r41_illness_resumption_needs_a_recovery_certificate() -> None:
    with pytest.raises(d.Refused) as refused:
        suspended().ask(d.Resume(grade=3, term=SPRING_2025), E.WRITTEN_APPLICATION)
    assert "recovery_certificate" in refused.value.reason


def test_r41_only_a_suspended_student_resumes_and_the_error_names_the_state() -> None:
    record = Record()
    with pytest.raises(d.IllegalTransition) as illegal:
        record.ask(d.Resume(grade=3, term=AUTUMN_2024), E.WRITTEN_APPLICATION, E.RECOVERY_CERTIFICATE)
    assert illegal.value.current is StatusState.ENROLLED
    assert "'enrolled'" in str(illegal.value)
    assert record.now.version == 1  # nothing recorded


# R42 abroad


def test_r42_going_abroad_needs_passport_pass_or_visa_and_the_school_records_it() -> None:
    record = Record()
    with pytest.raises(d.Refused) as refused:
        record.ask(d.GoAbroad(), E.ABROAD_APPLICATION)
    assert "passport or travel_pass or visa" in refused.value.reason
    record.ask(d.GoAbroad(), E.ABROAD_APPLICATION, E.TRAVEL_PASS)
    assert record.now.state is StatusState.ABROAD  # no bureau step (002 III.10)


def test_r42_return_from_abroad_continues_the_original_record() -> None:
    record = Record()
    record.ask(d.GoAbroad(), E.ABROAD_APPLICATION, E.PASSPORT)
    number, version = record.now.status_number, record.now.version
    record.ask(d.ReturnFromAbroad(), days=400)
    assert record.now.state is StatusState.ENROLLED
    assert (record.now.student_id, record.now.status_number) == ("stu-1", number)
    assert record.now.version == version + 1
    assert [e.type for e in record.events] == ["status_recorded", "went_abroad", "returned_from_abroad"]


# R43 senior-high dropout


def test_r43_senior_dropout_for_a_listed_cause_after_bureau_approval() -> None:
    record = Record(d.Segment.SENIOR, grade=11)
    record.change(d.DropOut(cause=d.DropoutCause.EMIGRATION), E.DROPOUT_APPLICATION, E.SUPPORTING_DOCUMENT)
    assert record.now.state is StatusState.DROPPED_OUT
    assert record.now.dropout is not None and not record.now.dropout.status_retained


def test_r43_dropout_by_application_is_for_senior_high_only() -> None:
    with pytest.raises(d.Refused) as refused:
        Record(d.Segment.JUNIOR, grade=8).ask(
            d.DropOut(cause=d.DropoutCause.EMIGRATION), E.DROPOUT_APPLICATION, E.SUPPORTING_DOCUMENT
        )
    assert "senior" in refused.value.reason


def test_r43_illness_dropout_follows_two_years_of_suspension() -> None:
    record = suspended(segment=d.Segment.SENIOR, grade=11)
    illness = d.DropOut(cause=d.DropoutCause.INCURABLE_ILLNESS)
    with pytest.raises(d.Refused):
        record.ask(illness, E.DROPOUT_APPLICATION, E.SUPPORTING_DOCUMENT, days=400)
    record.change(d.ExtendSuspension(), E.WRITTEN_APPLICATION, days=360)
    record.change(illness, E.DROPOUT_APPLICATION, E.SUPPORTING_DOCUMENT, days=731)
    assert record.now.state is StatusState.DROPPED_OUT


def test_r43_resumption_within_one_year_of_dropping_out() -> None:
    record = Record(d.Segment.SENIOR, grade=11)
    record.change(d.DropOut(cause=d.DropoutCause.JUDICIAL_OR_SPECIAL), E.DROPOUT_APPLICATION, E.SUPPORTING_DOCUMENT)
    late = Record(d.Segment.SENIOR, grade=11)
    late.change(d.DropOut(cause=d.DropoutCause.JUDICIAL_OR_SPECIAL), E.DROPOUT_APPLICATION, E.SUPPORTING_DOCUMENT)
    record.change(d.ResumeAfterDropout(), E.WRITTEN_APPLICATION, days=365)
    assert record.now.state is StatusState.ENROLLED
    with pytest.raises(d.Refused) as refused:
        late.ask(d.ResumeAfterDropout(), E.WRITTEN_APPLICATION, days=366)
    assert "within 1 year" in refused.value.reason


# R44 death


def test_r44_death_cancels_the_status_via_the_county_bureau() -> None:
    record = Record()
    record.ask(d.Death(date_of_death=date(2024, 9, 5)), E.DEATH_CERTIFICATE)
    assert record.now.state is StatusState.ENROLLED
    [_, deceased] = record.approve(days=2)
    assert record.now.state is StatusState.DECEASED
    assert deceased.type == "deceased" and deceased.by.role is Role.COUNTY
    assert not deceased.reported_late


def test_r44_cancellation_after_one_month_is_flagged_late_not_refused() -> None:
    record = Record()
    record.change(d.Death(date_of_death=date(2024, 8, 1)), E.DEATH_CERTIFICATE, days=1)
    deceased = record.events[-1]
    assert isinstance(deceased, Deceased) and deceased.reported_late


def test_r44_death_needs_the_certificate_and_a_past_date() -> None:
    with pytest.raises(d.Refused):
        Record().ask(d.Death(date_of_death=date(2024, 9, 5)))
    with pytest.raises(d.Refused) as refused:
        Record().ask(d.Death(date_of_death=date(2024, 9, 11)), E.DEATH_CERTIFICATE)
    assert refused.value.field == "date_of_death"


# R45 unexcused absence: compulsory education keeps the status, senior high does not


def test_r45_two_weeks_unexcused_absence_after_repeated_contact_counts_as_dropout_status_retained() -> None:
    record = Record(d.Segment.JUNIOR, grade=8)
    absence = d.AbsenceDropout(absent_since=date(2024, 8, 27), contact_attempts=3, migrant_household_county="360702")
    [dropped] = record.ask(absence, E.CONTACT_RECORD)
    assert record.now.state is StatusState.DROPPED_OUT
    assert record.now.dropout is not None and record.now.dropout.status_retained
    assert isinstance(dropped, DroppedOut)
    assert dropped.written_report_required
    assert dropped.migrant_household_county == "360702"


@pytest.mark.parametrize(
    ("since", "attempts", "field"),
    [(date(2024, 8, 28), 3, "absent_since"), (date(2024, 8, 1), 1, "contact_attempts")],
)
def test_r45_short_absence_or_single_contact_is_not_dropout(since: date, attempts: int, field: str) -> None:
    with pytest.raises(d.Refused) as refused:
        Record().ask(d.AbsenceDropout(absent_since=since, contact_attempts=attempts), E.CONTACT_RECORD)
    assert refused.value.field == field


def test_r45_senior_high_absence_dropout_is_verified_by_the_county_and_the_status_is_not_retained() -> None:
    record = Record(d.Segment.SENIOR, grade=11)
    [requested] = record.ask(d.AbsenceDropout(absent_since=date(2024, 8, 20), contact_attempts=3), E.CONTACT_RECORD)
    assert isinstance(requested, d.ChangeRequested) and requested.verifier is Role.COUNTY
    assert record.now.state is StatusState.ENROLLED  # nothing before the county bureau verifies
    [_, dropped] = record.approve(days=2)
    assert isinstance(dropped, DroppedOut) and dropped.by.role is Role.COUNTY
    assert not dropped.status_retained and not dropped.written_report_required
    assert record.now.dropout is not None and not record.now.dropout.status_retained
    with pytest.raises(d.Refused) as late:  # resumption follows R43: within one year
        record.ask(d.ResumeAfterDropout(), E.WRITTEN_APPLICATION, days=400)
    assert late.value.rule == "R43"
    record.change(d.ResumeAfterDropout(), E.WRITTEN_APPLICATION, days=300)
    assert record.now.state is StatusState.ENROLLED


def test_r45_the_migrant_file_hand_over_is_for_compulsory_education_only() -> None:
    absence = d.AbsenceDropout(absent_since=date(2024, 8, 20), contact_attempts=3, migrant_household_county="360702")
    with pytest.raises(d.Refused) as refused:
        Record(d.Segment.SENIOR, grade=11).ask(absence, E.CONTACT_RECORD)
    assert (refused.value.rule, refused.value.field) == ("R45", "migrant_household_county")


def test_r45_retained_status_may_resume_after_more_than_a_year() -> None:
    record = Record(d.Segment.JUNIOR, grade=8)
    record.ask(d.AbsenceDropout(absent_since=date(2024, 8, 1), contact_attempts=2), E.CONTACT_RECORD)
    record.change(d.ResumeAfterDropout(), E.WRITTEN_APPLICATION, days=500)
    assert record.now.state is StatusState.ENROLLED


# R46 graduation, completion, leaving; R08 reissue


DRAWN = 31  # R08: the certificate sequence the service layer draws from the series for a graduation taking effect


def drawn(details: d.ChangeDetails) -> int | None:
    """What the service layer (numbers.certificates.execute_drawing) gives the command: a graduation's drawn sequence."""
    return DRAWN if isinstance(details, d.Graduate) else None


def graduation() -> d.Graduate:
    """The school's digits come from the record's school (3506020001: county 02, township 00, school 01)."""
    return d.Graduate(graduation_year=2025)


def test_r46_junior_graduation_roster_approved_by_the_bureau_issues_a_b_certificate() -> None:
    record = Record(d.Segment.JUNIOR, grade=9)
    record.ask(graduation(), E.GRADUATION_ROSTER, days=280)
    assert record.now.state is StatusState.ENROLLED
    record.approve(days=285)
    assert record.now.state is StatusState.GRADUATED
    [certificate] = record.now.certificates
    assert certificate.number == "B2250201" + "0031"


def test_r46_primary_diploma_is_signed_by_the_school_alone() -> None:
    record = Record(d.Segment.PRIMARY, grade=6)
    record.ask(graduation(), days=280)
    assert record.now.state is StatusState.GRADUATED
    assert record.now.certificates[0].number == "B125020001" + "0031"


def test_r08_a_graduation_takes_effect_only_with_the_drawn_sequence_never_its_request_s() -> None:
    """The domain asks for the sequence (CertificateUndrawn) only once every check passed; a request stored before
    the registry drew them may carry the caller's, which the number never takes."""
    record = Record(d.Segment.PRIMARY, grade=6)
    undrawn = d.RequestChange(operator=SCHOOL_CLERK, reason="毕业", details=graduation())
    with pytest.raises(CertificateUndrawn) as asked:
        record.do(undrawn, days=280)
    assert (asked.value.segment, asked.value.details.graduation_year) == (d.Segment.PRIMARY, 2025)
    with pytest.raises(d.Refused):  # refused before anything is drawn: not in the graduation grade
        Record(d.Segment.PRIMARY, grade=5).do(undrawn, days=280)
    junior = Record(d.Segment.JUNIOR, grade=9)
    junior.ask(graduation().model_copy(update={"certificate_sequence": 7}), E.GRADUATION_ROSTER, days=280)
    junior.approve(days=285)
    assert junior.now.certificates[0].number == "B2250201" + "0031"  # the drawn 31, not the request's 7


def test_r08_r07_a_graduation_s_numbering_is_its_school_s_never_another_s() -> None:
    """The certificate number carries the digits of the school the record graduates from: a numbering that composes
    another school's series is refused naming the field, one composing the school's own is taken (the junior layout
    leaves the township out, so any township composes it), and one left out is read from the record's school."""
    primary = Record(d.Segment.PRIMARY, grade=6)
    another = d.SchoolNumbering(county="06", township="03", school="12")
    with pytest.raises(d.Refused) as refused:
        primary.ask(graduation().model_copy(update={"numbering": another}), days=280)
    assert (refused.value.rule, refused.value.field) == ("R08", "numbering")
    assert "B125060312NNNN, not B125020001NNNN of the school 3506020001" in refused.value.reason
    assert primary.now.state is StatusState.ENROLLED
    undrawn = d.RequestChange(operator=SCHOOL_CLERK, reason="毕业", details=graduation())
    with pytest.raises(CertificateUndrawn) as asked:
        primary.do(undrawn, days=280)
    assert asked.value.numbering == d.SchoolNumbering(county="02", township="00", school="01")
    junior = Record(d.Segment.JUNIOR, grade=9)
    own = d.SchoolNumbering(county="02", township="77", school="01")
    junior.ask(graduation().model_copy(update={"numbering": own}), E.GRADUATION_ROSTER, days=280)
    junior.approve(days=285)
    assert junior.now.certificates[0].number == "B2250201" + "0031"


def test_r46_only_the_graduation_grade_graduates() -> None:
    with pytest.raises(d.Refused) as refused:
        Record(d.Segment.JUNIOR, grade=8).ask(graduation(), E.GRADUATION_ROSTER)
    assert "graduation grade" in refused.value.reason


def test_r46_completion_certificate_when_courses_done_but_requirements_not_met() -> None:
    record = Record(d.Segment.SENIOR, grade=12)
    record.ask(d.Complete(), E.COMPLETION_ROSTER, days=280)
    assert record.now.state is StatusState.COMPLETED
    assert record.now.certificates[0].kind == "completion"


def test_r46_leaving_certificate_states_the_study_period_for_senior_leavers() -> None:
    record = Record(d.Segment.SENIOR, grade=11)
    record.ask(d.Leave(study_from=date(2023, 9, 1), study_to=date(2024, 9, 10)))
    assert record.now.state is StatusState.LEFT
    certificate = record.now.certificates[0]
    assert (certificate.study_from, certificate.study_to) == (date(2023, 9, 1), date(2024, 9, 10))
    with pytest.raises(d.Refused):
        Record(d.Segment.JUNIOR, grade=8).ask(d.Leave(study_from=date(2023, 9, 1), study_to=date(2024, 9, 10)))


def test_r08_a_lost_certificate_is_reissued_once_and_a_second_reissue_is_refused() -> None:
    record = Record(d.Segment.JUNIOR, grade=9)
    record.change(graduation(), E.GRADUATION_ROSTER, days=280)
    number = record.now.certificates[0].number
    assert number is not None
    record.change(d.ReissueCertificate(certificate_number=number), E.LOSS_STATEMENT, days=400)
    assert record.now.certificates[0].reissued_on == date(2025, 10, 15)
    with pytest.raises(d.Refused) as refused:
        record.ask(d.ReissueCertificate(certificate_number=number), E.LOSS_STATEMENT, days=800)
    assert refused.value.rule == "R08"
    assert "already reissued" in refused.value.reason
    assert "exception" in refused.value.reason  # RULES "Exceptions": only the bureau may allow a second


# Two-phase mechanics


def test_r40_county_rejection_records_the_reason_and_changes_nothing_else() -> None:
    record = Record()
    record.ask(d.Suspend(cause=d.SuspensionCause.ILLNESS, term=AUTUMN_2024), *ILLNESS)
    [rejected] = record.approve(approve=False, reason="证明材料不是县级以上医疗单位出具")
    assert rejected.type == "change_rejected"
    assert rejected.reason == "证明材料不是县级以上医疗单位出具"
    assert record.now.state is StatusState.ENROLLED and record.now.pending == ()


def test_r40_a_second_status_change_waits_for_the_first() -> None:
    record = Record()
    record.ask(d.Suspend(cause=d.SuspensionCause.ILLNESS, term=AUTUMN_2024), *ILLNESS)
    with pytest.raises(d.IllegalTransition) as illegal:
        record.ask(d.Death(date_of_death=date(2024, 9, 5)), E.DEATH_CERTIFICATE)
    assert "still pending" in str(illegal.value)


def test_r40_approval_rechecks_the_state_and_nothing_changes_on_an_error() -> None:
    record = Record()
    record.ask(d.Suspend(cause=d.SuspensionCause.ILLNESS, term=AUTUMN_2024), *ILLNESS)
    before = record.now
    # The county sees a wrong change id: an error, and the record stays exactly as it was.
    with pytest.raises(Exception, match="no pending change"):
        decide(d.ReviewChange(operator=COUNTY_CLERK, reason="ok", change_id="chg-9", approve=True), before, T0)
    assert record.now == before


def test_r44_no_change_after_death_and_the_error_names_deceased() -> None:
    record = Record()
    record.change(d.Death(date_of_death=date(2024, 9, 5)), E.DEATH_CERTIFICATE)
    with pytest.raises(d.IllegalTransition) as illegal:
        record.ask(d.GoAbroad(), E.ABROAD_APPLICATION, E.PASSPORT)
    assert illegal.value.current is StatusState.DECEASED


def test_r46_a_leaving_certificate_cannot_end_in_the_future() -> None:
    with pytest.raises(d.Refused) as refused:
        Record(d.Segment.SENIOR, grade=11).ask(d.Leave(study_from=date(2023, 9, 1), study_to=date(2024, 9, 11)))
    assert refused.value.field == "study_to"
